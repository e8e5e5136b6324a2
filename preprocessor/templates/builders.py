"""Image references to an image the same Terraform module builds (``alicloud_image.x.id``,
``"${aws_ami_copy.x.id}"``): the image exists in the region the module runs in."""

from __future__ import annotations

import re

from preprocessor.model import ImageRef, RefKind
from providers import image_producers

_RESOURCE_ATTRIBUTE = re.compile(r"(?:\$\{)?\s*([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.[A-Za-z_][A-Za-z0-9_]*\s*\}?")


def with_builder(ref: ImageRef) -> ImageRef:
    """``ref``, marked as built in the module when it names an attribute of an image-building resource."""
    if ref.kind is not RefKind.REFERENCE:
        return ref
    match = _RESOURCE_ATTRIBUTE.fullmatch(ref.value.strip('"'))  # Terraform JSON keeps the quotes
    if match is None or match.group(1) not in image_producers():
        return ref
    return ref._replace(built_by=f"{match.group(1)}.{match.group(2)}")
