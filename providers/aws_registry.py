"""ECR credentials: a registry token from boto3's ``GetAuthorizationToken`` for an
``ACCOUNT.dkr.ecr.REGION.amazonaws.com`` host (credentials and endpoint from boto3's usual chain)."""

from __future__ import annotations

import base64
import re
from typing import Any

from preprocessor.oci.auth import Credentials

ECR_HOST = re.compile(r"(?P<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")


def ecr_credentials(host: str) -> Credentials | None:
    match = ECR_HOST.fullmatch(host)
    if match is None:
        return None
    import boto3

    client: Any = boto3.session.Session().client("ecr", region_name=match["region"])
    data = client.get_authorization_token(registryIds=[match["account"]])["authorizationData"][0]
    username, _, secret = base64.b64decode(data["authorizationToken"]).decode("utf-8").partition(":")
    return Credentials(username, secret)
