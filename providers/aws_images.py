"""AWS machine images across regions: EC2 CopyImage into each region, then wait for ``available``.

boto3 is imported here, never on the validate path. Endpoint and credentials follow boto3's
usual chain (``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_EC2``, profiles, environment).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from providers.spec import CopyProbe, ImageCopy, ImagePermissions, copy_token, wait_for_copy

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

DEFAULT_WAIT_SECONDS = 1800.0
POLL_SECONDS = 5.0


def ec2_client(region: str) -> EC2Client:
    import boto3

    return boto3.session.Session().client("ec2", region_name=region)


def copy_image(
    package: str, version: str, source_region: str, source_image_id: str, region: str, description: str = ""
) -> str:
    """Start EC2 CopyImage of the source AMI into ``region``; return the new AMI ID."""
    response = ec2_client(region).copy_image(
        SourceRegion=source_region,
        SourceImageId=source_image_id,
        Name=f"{package}-{version}",
        Description=(description or f"deploypkg {package} {version} from {source_region}")[:255],
        ClientToken=copy_token(package, version, region),
    )
    return response["ImageId"]


def image_state(region: str, image_id: str) -> tuple[str, str | None]:
    """The AMI's state and state reason in ``region`` (``missing`` if EC2 does not know it)."""
    images = ec2_client(region).describe_images(ImageIds=[image_id]).get("Images", [])
    if not images:
        return "missing", f"{image_id} does not exist in {region}"
    image = images[0]
    reason = image.get("StateReason", {}).get("Message")
    return str(image.get("State", "unknown")), reason


def wait_available(
    region: str,
    image_id: str,
    timeout: float = DEFAULT_WAIT_SECONDS,
    poll: float = POLL_SECONDS,
    stop: threading.Event | None = None,
    progress: Callable[[str, int | None], None] | None = None,
) -> ImageCopy:
    """Poll until the copy is ``available`` or has failed, at most ``timeout`` seconds; ``stop``
    ends the wait early (state ``interrupted``)."""

    def probe() -> CopyProbe:
        state, reason = image_state(region, image_id)
        done = None if state == "pending" else ImageCopy(region, image_id, state, reason)
        return CopyProbe(state, None, done)  # EC2 tells no percentage

    return wait_for_copy(region, image_id, probe, timeout, poll, stop or threading.Event(), progress)


class EC2ImageCopier:
    """The AWS :class:`~providers.spec.ImageCopier`: EC2 CopyImage, then DescribeImages until ``available``."""

    service = "EC2 CopyImage"

    def copy_image(self, package: str, version: str, source_region: str, source_image_id: str, region: str) -> str:
        return copy_image(package, version, source_region, source_image_id, region)

    def wait_available(
        self,
        region: str,
        image_id: str,
        timeout: float,
        poll: float,
        stop: threading.Event,
        progress: Callable[[str, int | None], None] | None = None,
    ) -> ImageCopy:
        return wait_available(region, image_id, timeout, poll, stop, progress)


@contextlib.contextmanager
def _ec2_errors(action: str, region: str) -> Iterator[None]:
    """An EC2 or botocore error as a CatalogError naming the action, the region and EC2's code."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    from preprocessor.errors import CatalogError

    try:
        yield
    except ClientError as error:
        found = error.response.get("Error", {})
        raise CatalogError(f"EC2 {action} in {region}: {found.get('Code')}: {found.get('Message')}") from None
    except (BotoCoreError, ResponseParserError) as error:
        raise CatalogError(f"EC2 {action} in {region} failed: {type(error).__name__}: {error}") from None


class EC2ImageSharer:
    """The AWS :class:`~providers.spec.ImageSharer`: an AMI's launch permissions
    (``DescribeImageAttribute`` / ``ModifyImageAttribute``; ``all`` is the public group)."""

    service = "EC2 launch permissions"
    copy_permissions = True

    def read(self, region: str, image_id: str) -> ImagePermissions:
        with _ec2_errors("read image permissions", region):
            return self._read(region, image_id)

    def _read(self, region: str, image_id: str) -> ImagePermissions:
        client = ec2_client(region)
        found = client.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
        permissions = found.get("LaunchPermissions", [])
        public = any(p.get("Group") == "all" for p in permissions)
        accounts = frozenset(str(p["UserId"]) for p in permissions if p.get("UserId"))
        per_snapshot = [self._volume_permissions(region, s) for s in self._snapshots(region, image_id)]
        every = frozenset.intersection(*per_snapshot) if per_snapshot else frozenset()
        some = frozenset().union(*per_snapshot) if per_snapshot else frozenset()
        return ImagePermissions(public, accounts, every, some - every)

    def _snapshots(self, region: str, image_id: str) -> list[str]:
        images = ec2_client(region).describe_images(ImageIds=[image_id]).get("Images", [])
        mappings = images[0].get("BlockDeviceMappings", []) if images else []
        return [str(m["Ebs"]["SnapshotId"]) for m in mappings if m.get("Ebs", {}).get("SnapshotId")]

    def _volume_permissions(self, region: str, snapshot_id: str) -> frozenset[str]:
        found = ec2_client(region).describe_snapshot_attribute(
            SnapshotId=snapshot_id, Attribute="createVolumePermission"
        )
        return frozenset(str(p["UserId"]) for p in found.get("CreateVolumePermissions", []) if p.get("UserId"))

    def image_owner(self, region: str, image_id: str) -> str | None:
        with _ec2_errors("DescribeImages", region):
            images = ec2_client(region).describe_images(ImageIds=[image_id]).get("Images", [])
        return str(images[0]["OwnerId"]) if images and images[0].get("OwnerId") else None

    def apply(self, region: str, image_id: str, actual: ImagePermissions, wanted: ImagePermissions) -> None:
        with _ec2_errors("change image permissions", region):
            self._apply(region, image_id, actual, wanted)

    def _apply(self, region: str, image_id: str, actual: ImagePermissions, wanted: ImagePermissions) -> None:
        if (actual.copiers, actual.copiers_partial) != (wanted.copiers, wanted.copiers_partial):
            # Narrowing first: fewer copiers before any launch permission widens.
            for snapshot_id in self._snapshots(region, image_id):
                self._apply_volume_permissions(region, snapshot_id, wanted.copiers)
        self._apply_launch_permissions(region, image_id, actual, wanted)

    def _apply_volume_permissions(self, region: str, snapshot_id: str, wanted: frozenset[str]) -> None:
        current = self._volume_permissions(region, snapshot_id)
        for operation, accounts in (("remove", current - wanted), ("add", wanted - current)):
            if accounts:
                ec2_client(region).modify_snapshot_attribute(
                    SnapshotId=snapshot_id,
                    Attribute="createVolumePermission",
                    OperationType=operation,  # type: ignore[arg-type]
                    UserIds=sorted(accounts),
                )

    def _apply_launch_permissions(
        self, region: str, image_id: str, actual: ImagePermissions, wanted: ImagePermissions
    ) -> None:
        add: list[dict[str, str]] = [{"UserId": a} for a in sorted(wanted.accounts - actual.accounts)]
        remove: list[dict[str, str]] = [{"UserId": a} for a in sorted(actual.accounts - wanted.accounts)]
        if wanted.public and not actual.public:
            add.append({"Group": "all"})
        if actual.public and not wanted.public:
            remove.append({"Group": "all"})
        if not add and not remove:
            return
        change: dict[str, list[dict[str, str]]] = {}
        if add:
            change["Add"] = add
        if remove:
            change["Remove"] = remove
        ec2_client(region).modify_image_attribute(
            ImageId=image_id,
            Attribute="launchPermission",
            LaunchPermission=change,  # type: ignore[arg-type]
        )
