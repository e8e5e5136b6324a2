"""examplecloud: a made-up cloud with CloudFormation-syntax templates (``EXAMPLE::`` types,
``ExampleTemplateFormatVersion``), Terraform resources (``examplecloud_``), an S3-compatible
object store reached as ``exs://`` that copies only within a region, and its own image copier.

The copier is an in-process stand-in for the cloud's API: it appends each copy it starts to the
file named by ``$EXAMPLECLOUD_COPY_LOG``, so a test can count the calls deploypkg makes.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable

from providers import Dialect, ImageCopier, ImageCopy, PropertySpec, Provider, ResourceSpec


class ExampleImageCopier:
    service = "examplecloud CopyImage"

    def copy_image(self, package: str, version: str, source_region: str, source_image_id: str, region: str) -> str:
        digest = hashlib.sha256(f"{source_image_id}\0{region}".encode()).hexdigest()
        image_id = f"img-{digest[:12]}"
        with open(os.environ["EXAMPLECLOUD_COPY_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{package} {version} {source_region} {source_image_id} -> {region} {image_id}\n")
        return image_id

    def wait_available(
        self,
        region: str,
        image_id: str,
        timeout: float,
        poll: float,
        stop: threading.Event,
        progress: Callable[[str, int | None], None] | None = None,
    ) -> ImageCopy:
        if progress is not None:
            progress("available", 100)
        return ImageCopy(region, image_id, "available")


def _copier() -> ImageCopier:
    return ExampleImageCopier()


PROVIDER = Provider(
    name="examplecloud",
    resources=(
        ResourceSpec("EXAMPLE::Compute::Server", Dialect.CLOUDFORMATION, "examplecloud", (PropertySpec(("ImageId",)),)),
        ResourceSpec("examplecloud_server", Dialect.TERRAFORM, "examplecloud", (PropertySpec(("image_id",)),)),
    ),
    regions=("ex-north-1", "ex-south-1", "ex-east-1"),
    custom_image=re.compile(r"img-[0-9a-f]{12}"),
    custom_image_prefix="img-",
    object_endpoint="objects.{region}.example.test",
    object_internal_endpoint="objects-internal.{region}.example.test",
    s3_endpoint="https://s3.{region}.example.test",
    s3_addressing_style="path",
    registry_host="registry.{region}.example.test",
    image_id_help="an examplecloud image ID looks like img-0123456789ab (img- and 12 hex digits)",
    resource_prefixes=("EXAMPLE::", "examplecloud_"),
    template_dialect=Dialect.CLOUDFORMATION,
    template_version_key="ExampleTemplateFormatVersion",
    store_schemes=("exs",),
    cross_region_copy="stream",
    image_copier=_copier,
)
