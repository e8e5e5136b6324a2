"""Alibaba Cloud ECS images across regions.

deploypkg does not call ECS CopyImage: that needs the Alibaba Cloud SDK and an ECS endpoint we
cannot test honestly offline. The copies are made where the image is built (Packer's
``image_copy_regions``, the console, ``aliyun ecs CopyImage``) and deploypkg *records* them:
``--image REGION=ID`` on ``publish``/``distribute``, or imported from a Packer manifest.
"""

from __future__ import annotations

from collections.abc import Mapping

from preprocessor.errors import InputError

HOW_TO_COPY = (
    "copy the image with ECS CopyImage (Packer image_copy_regions, the console, or "
    "`aliyun ecs CopyImage --RegionId SRC --ImageId m-… --DestinationRegionId R`), "
    "then record it with --image R=m-…"
)


def recorded_image(region: str, mappings: Mapping[str, str], package: str, version: str) -> str:
    """The image ID given for ``region``; alicloud images are recorded, not copied."""
    try:
        return mappings[region]
    except KeyError:
        raise InputError(
            f"{package} {version}: no ECS image given for {region}; deploypkg records alicloud image copies",
            hint=HOW_TO_COPY,
        ) from None
