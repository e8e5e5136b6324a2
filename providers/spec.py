"""What a provider is: a table (resource types, image-ID syntax, regions, endpoints, template
dialect) plus the operations only it can do (:class:`ImageCopier`). Core code asks these
questions of a :class:`Provider`; it never branches on a provider's name."""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol

from preprocessor.model import PropertyRole

if TYPE_CHECKING:
    from preprocessor.oci.auth import Credentials as RegistryCredentials


class Dialect(str, enum.Enum):
    ROS = "ros"
    CLOUDFORMATION = "cloudformation"
    TERRAFORM = "terraform"


class PropertySpec(NamedTuple):
    path: tuple[str, ...]
    """Property names from the resource's properties (ROS/CFN) or body (Terraform);
    a nested Terraform block or a list of maps is walked into element by element."""
    role: PropertyRole = PropertyRole.IMAGE_ID
    each_item: bool = False
    """The value is a list and each element is one reference (``ALIYUN::ECI::ImageCache``'s ``Image``)."""

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


class ResourceSpec(NamedTuple):
    resource_type: str
    dialect: Dialect
    provider: str | None
    """The provider that owns the type; ``None`` for a project's own type no provider claims."""
    properties: tuple[PropertySpec, ...]


class ImageIdClass(str, enum.Enum):
    CUSTOM = "custom"
    """Exists in one region (``m-…``, ``ami-…``): must be associated with a package."""
    PUBLIC = "public"
    """A public image name (``ubuntu_22_04_x64_20G_alibase_20230907.vhd``)."""
    NAME_PREFIX = "name-prefix"
    """A ROS name prefix such as ``centos_7``, resolved by the cloud at deploy time."""
    MALFORMED = "malformed"


class ImageCopy(NamedTuple):
    region: str
    image_id: str
    state: str
    """``pending``, ``available``, ``failed`` … or ``timeout`` / ``interrupted`` while still pending."""
    reason: str | None = None


def copy_token(package: str, version: str, region: str) -> str:
    """An image copy's idempotency token (58 characters): a rerun for the same version and
    region gets the same copy."""
    import hashlib  # here, not at the top: validate never copies, and OpenSSL's loading costs ms

    digest = hashlib.sha256(f"{package}\0{version}\0{region}".encode()).hexdigest()
    return f"deploypkg-{digest[:48]}"


class CopyProbe(NamedTuple):
    """One look at a cloud-side image copy."""

    shown: str | None
    """The cloud's own name for its state (``pending``, ``Creating``), for progress and messages;
    ``None``: nothing to report (the copy is gone)."""
    percent: int | None = None
    done: ImageCopy | None = None
    """The outcome once the copy is no longer under way (available, failed, missing …)."""


def wait_for_copy(
    region: str,
    image_id: str,
    probe: Callable[[], CopyProbe],
    timeout: float,
    poll: float,
    stop: threading.Event,
    progress: Callable[[str, int | None], None] | None = None,
) -> ImageCopy:
    """Look at a copy every ``poll`` seconds until it is done, at most ``timeout`` seconds
    (state ``timeout``); ``stop`` ends the wait early (state ``interrupted``). Each provider's
    copier brings its own ``probe``."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        seen = probe()
        if progress is not None and seen.shown is not None:
            progress(seen.shown, seen.percent)
        if seen.done is not None:
            return seen.done
        if time.monotonic() >= deadline:
            return ImageCopy(region, image_id, "timeout", f"still {seen.shown} after {timeout:.0f} s")
        if stop.wait(min(poll, max(0.0, deadline - time.monotonic()))):
            return ImageCopy(region, image_id, "interrupted", f"interrupted while {seen.shown}")


class ImageCopier(Protocol):
    """A provider's own machine-image replication: start a copy in a region, wait for it."""

    service: str
    """The cloud operation, for messages (``EC2 CopyImage``)."""

    def copy_image(self, package: str, version: str, source_region: str, source_image_id: str, region: str) -> str:
        """Start copying the source image into ``region`` (idempotent per package, version and
        region); return the new image ID."""
        ...

    def wait_available(
        self,
        region: str,
        image_id: str,
        timeout: float,
        poll: float,
        stop: threading.Event,
        progress: Callable[[str, int | None], None] | None = None,
    ) -> ImageCopy:
        """Poll until the copy is usable or has failed, at most ``timeout`` seconds; ``stop`` ends
        the wait early (state ``interrupted``). ``progress(status, percent)`` after each poll
        (``percent`` ``None`` where the cloud tells none)."""
        ...


class ImagePermissions(NamedTuple):
    """Who may launch a machine image: everyone (public), or these accounts; and who may copy it
    into their own account (read its snapshots, where the cloud has such a permission)."""

    public: bool
    accounts: frozenset[str]
    copiers: frozenset[str] = frozenset()
    """Accounts every one of the image's snapshots lets create volumes (copy the image)."""
    copiers_partial: frozenset[str] = frozenset()
    """Accounts only some of its snapshots let: never wanted."""


class ImageSharer(Protocol):
    """A provider's own machine-image permissions: read and change who may launch an image."""

    service: str
    copy_permissions: bool
    """Whether it also sets who may copy an image (EC2: the snapshots' create-volume permission)."""

    def read(self, region: str, image_id: str) -> ImagePermissions: ...

    def image_owner(self, region: str, image_id: str) -> str | None:
        """The account that owns the image (it needs no permission)."""
        ...

    def apply(self, region: str, image_id: str, actual: ImagePermissions, wanted: ImagePermissions) -> None:
        """Change the permissions from ``actual`` to ``wanted`` (only the difference is sent)."""
        ...


CopyAcrossRegions = Literal["server", "stream"]


@dataclass(frozen=True)
class Provider:
    name: str
    resources: tuple[ResourceSpec, ...]
    regions: tuple[str, ...]
    custom_image: re.Pattern[str]
    custom_image_prefix: str
    public_image: re.Pattern[str] | None = None
    name_prefix: re.Pattern[str] | None = None
    object_endpoint: str = ""
    """Public object-store endpoint host pattern, with ``{region}``."""
    object_internal_endpoint: str = ""
    """Endpoint reachable from inside the region (no traffic charge), with ``{region}``."""
    s3_endpoint: str = ""
    """S3-compatible API endpoint URL pattern, with ``{region}``."""
    s3_addressing_style: str = "auto"
    registry_host: str = ""
    """Container registry host pattern, with ``{region}`` (and ``{account}`` where it applies)."""
    registry_hosts: tuple[str, ...] = ()
    """Regexes of this provider's regional registry hosts, each with a ``region`` group."""
    registry_internal_hosts: tuple[tuple[str, str], ...] = ()
    """(regex, replacement) pairs turning a registry host into its in-VPC host (``re.sub``; the
    first that matches applies), for ``render --url-endpoint internal``."""
    image_id_help: str = ""
    image_producers: frozenset[str] = frozenset()
    """Resource types that build a machine image in the stack (``ALIYUN::ECS::CustomImage``,
    ``aws_ami_copy``): an image ID referring to one is made in the region the stack runs in."""
    resource_prefixes: tuple[str, ...] = ()
    """Resource-type prefixes this provider owns (``ALIYUN::``, ``alicloud_``)."""
    template_dialect: Dialect | None = None
    """The dialect of this provider's structured (JSON/YAML) templates, if it has them."""
    template_version_key: str = ""
    """The top-level key that marks a structured template as this provider's."""
    store_schemes: tuple[str, ...] = ()
    """Catalog URL schemes that mean this provider's S3-compatible object store (``oss://``)."""
    cross_region_copy: CopyAcrossRegions = "server"
    """How its object store copies between regions: ``server`` (CopyObject reads any region) or
    ``stream`` (the bytes pass through deploypkg)."""
    image_copier: Callable[[], ImageCopier] | None = None
    """Makes the copier that replicates machine images (imported only when called); ``None``:
    copies are made outside deploypkg and recorded with ``--image REGION=ID``."""
    record_images_help: str = ""
    image_sharer: Callable[[], ImageSharer] | None = None
    """Makes the sharer that sets who may launch the provider's machine images (imported only
    when called); ``None``: deploypkg does not set them (yet) on this cloud."""
    registry_credentials: Callable[[str], RegistryCredentials | None] | None = None
    """The provider's own credentials for one of its registry hosts (ECR: a token from boto3);
    ``None`` for a host that is not its registry. Tried before the docker config."""
    registry_pull_tokens: bool = False
    """``registry_credentials`` are short-lived pull tokens (ECR: 12 hours), fit to write into a
    rendered template's pull-credential placeholder; a static password never is."""
    """How to copy an image outside deploypkg, for providers whose copies are recorded."""
    extras: Mapping[str, str] = field(default_factory=dict)

    def classify_image(self, value: str) -> ImageIdClass:
        if self.custom_image.fullmatch(value):
            return ImageIdClass.CUSTOM
        if value.startswith(self.custom_image_prefix):
            return ImageIdClass.MALFORMED
        if self.public_image is not None and self.public_image.fullmatch(value):
            return ImageIdClass.PUBLIC
        if self.name_prefix is not None and self.name_prefix.fullmatch(value):
            return ImageIdClass.NAME_PREFIX
        return ImageIdClass.MALFORMED

    def owns_resource_type(self, resource_type: str) -> bool:
        return resource_type.startswith(self.resource_prefixes) if self.resource_prefixes else False

    def registry_region(self, host: str) -> str | None:
        """The region of one of this provider's registry hosts, else ``None``."""
        for pattern in self.registry_hosts:
            match = re.fullmatch(pattern, host)
            if match is not None:
                return match["region"]
        return None

    def internal_registry(self, host: str) -> str:
        """``host``'s in-VPC name, or ``host`` when the provider has none (ECR: VPC endpoints keep it)."""
        for pattern, replacement in self.registry_internal_hosts:
            if re.fullmatch(pattern, host):
                return re.sub(pattern, replacement, host)
        return host

    def is_region(self, region: str) -> bool:
        return region in self.regions

    def check_region(self, region: str) -> str:
        """``region`` if it is one of this provider's, else bad input naming the closest ones."""
        if self.is_region(region):
            return region
        import difflib

        from preprocessor.errors import InputError

        close = difflib.get_close_matches(region, self.regions, n=1, cutoff=0.6)
        suggestion = f"did you mean {close[0]}? " if close else ""
        article = "an" if self.name[:1].lower() in "aeiou" else "a"
        raise InputError(
            f"{region} is not {article} {self.name} region",
            hint=f"{suggestion}{self.name} regions: {', '.join(self.regions)}",
        )
