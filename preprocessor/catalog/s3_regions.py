"""One S3 client for every region, where the endpoint allows it.

A botocore client is bound to one region, and a new one costs milliseconds of set-up (its
endpoint rule set, its event handlers, its API methods). When the endpoint does not depend on the
region (an explicit ``endpoint_url`` without ``{region}``, or boto3's ``AWS_ENDPOINT_URL``: MinIO,
moto, a gateway), regions differ only in SigV4's credential scope, so one client can serve them
all: :class:`RegionScope` sets the scope's region per call, in a ``before-sign`` handler that
reads the calling thread's region (threads sharing the client each sign for their own).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


class RegionScope:
    """The region each thread's requests on a shared client are signed for."""

    def __init__(self) -> None:
        self._local = threading.local()

    def attach(self, client: Any) -> None:
        """Sign ``client``'s requests (calls and presigned URLs) for the region of :meth:`signing_for`."""
        client.meta.events.register("before-sign.s3", self._before_sign)

    @contextlib.contextmanager
    def signing_for(self, region: str) -> Iterator[None]:
        previous = getattr(self._local, "region", None)
        self._local.region = region
        try:
            yield
        finally:
            self._local.region = previous

    def _before_sign(self, request: Any, **_: Any) -> None:
        region = getattr(self._local, "region", None)
        if region is not None:
            # botocore signs with the signing context's region when it has one, and the context
            # of a presigned URL has none (the client's region is used): set it either way.
            request.context["signing"] = {**request.context.get("signing", {}), "region": region}
