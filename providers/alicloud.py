"""Alibaba Cloud: ROS and Terraform (alicloud) resource tables, image-ID syntax, endpoints."""

from __future__ import annotations

import re

from preprocessor.model import PropertyRole
from providers.spec import Dialect, PropertySpec, Provider, ResourceSpec

HOW_TO_COPY = (
    "copy the image with ECS CopyImage (Packer image_copy_regions, the console, or "
    "`aliyun ecs CopyImage --RegionId SRC --ImageId m-… --DestinationRegionId R`), "
    "then record it with --image R=m-…"
)

_IMAGE = PropertySpec(("ImageId",))
_FAMILY = PropertySpec(("ImageFamily",), PropertyRole.IMAGE_FAMILY)


def _ros(resource_type: str, *props: PropertySpec) -> ResourceSpec:
    return ResourceSpec(resource_type, Dialect.ROS, "alicloud", props)


def _container(path: str, each_item: bool = False) -> PropertySpec:
    return PropertySpec(tuple(path.split(".")), PropertyRole.CONTAINER_IMAGE, each_item)


def _tf_container(resource_type: str, *props: PropertySpec) -> ResourceSpec:
    return ResourceSpec(resource_type, Dialect.TERRAFORM, "alicloud", props)


def _tf(resource_type: str, *paths: str) -> ResourceSpec:
    return ResourceSpec(
        resource_type, Dialect.TERRAFORM, "alicloud", tuple(PropertySpec(tuple(p.split("."))) for p in paths)
    )


RESOURCES = (
    _ros("ALIYUN::ECS::Instance", _IMAGE),
    _ros("ALIYUN::ECS::InstanceGroup", _IMAGE, _FAMILY),
    _ros("ALIYUN::ECS::InstanceGroupClone", _IMAGE),
    _ros("ALIYUN::ESS::ScalingConfiguration", _IMAGE, _FAMILY),
    _ros("ALIYUN::EHPC::Cluster", _IMAGE),
    _ros("ALIYUN::ECS::LaunchTemplate", _IMAGE),
    _tf("alicloud_instance", "image_id"),
    _tf("alicloud_ess_scaling_configuration", "image_id"),
    _tf("alicloud_ecs_launch_template", "image_id"),
    _tf("alicloud_ehpc_cluster", "image_id"),
    _tf("alicloud_ehpc_cluster_v2", "manager.manager_node.image_id"),
    # Container images (ROS resource docs; Terraform alicloud provider docs).
    _ros("ALIYUN::ECI::ContainerGroup", _container("Container.Image"), _container("InitContainer.Image")),
    _ros("ALIYUN::ECI::ImageCache", _container("Image", each_item=True)),
    _ros("ALIYUN::SAE::Application", _container("ImageUrl")),
    _ros("ALIYUN::FC3::Function", _container("CustomContainerConfig.Image")),
    _ros("ALIYUN::FC::Function", _container("CustomContainerConfig.Image")),
    _tf_container("alicloud_eci_container_group", _container("containers.image"), _container("init_containers.image")),
    _tf_container("alicloud_eci_image_cache", _container("images", each_item=True)),
    _tf_container("alicloud_sae_application", _container("image_url")),
    _tf_container("alicloud_fcv3_function", _container("custom_container_config.image")),
)

REGIONS = (
    "cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu", "cn-hangzhou",
    "cn-shanghai", "cn-nanjing", "cn-fuzhou", "cn-shenzhen", "cn-heyuan", "cn-guangzhou", "cn-chengdu",
    "cn-hongkong", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-3",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "us-east-1", "us-west-1", "eu-west-1",
    "eu-central-1", "me-east-1", "me-central-1", "na-south-1",
)  # fmt: skip

PROVIDER = Provider(
    name="alicloud",
    resources=RESOURCES,
    regions=REGIONS,
    # Custom, shared and marketplace images: "m-" and 20 (historically 16 to 24) lowercase alphanumerics.
    custom_image=re.compile(r"m-[a-z0-9]{16,24}"),
    custom_image_prefix="m-",
    # Public images are named, e.g. ubuntu_22_04_x64_20G_alibase_20230907.vhd.
    public_image=re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*\.(?:vhd|qcow2|raw)"),
    # ROS accepts a name prefix such as centos_7 (or aliyun_3_x64_20G_alibase_, as Alibaba's own
    # ros-templates write it) and picks the newest matching public image.
    name_prefix=re.compile(r"[a-z][a-z0-9]*(?:_[A-Za-z0-9]+)*_?"),
    object_endpoint="oss-{region}.aliyuncs.com",
    object_internal_endpoint="oss-{region}-internal.aliyuncs.com",
    s3_endpoint="https://s3.oss-{region}.aliyuncs.com",
    s3_addressing_style="virtual",
    registry_host="registry.{region}.aliyuncs.com",
    registry_hosts=(
        r"registry(?:-vpc)?\.(?P<region>[a-z0-9-]+)\.aliyuncs\.com",
        r"[a-z0-9-]+-registry(?:-vpc)?\.(?P<region>[a-z0-9-]+)\.cr\.aliyuncs\.com",
    ),
    registry_internal_hosts=(
        (r"registry\.([a-z0-9-]+)\.aliyuncs\.com", r"registry-vpc.\1.aliyuncs.com"),  # ACR personal
        (r"([a-z0-9-]+)-registry\.([a-z0-9-]+)\.cr\.aliyuncs\.com", r"\1-registry-vpc.\2.cr.aliyuncs.com"),  # ACR EE
    ),
    image_id_help="an ECS image ID looks like m-bp1g7004ksh0oeuc1234 (m- and 20 lowercase letters or digits)",
    image_producers=frozenset({"ALIYUN::ECS::CustomImage", "alicloud_image", "alicloud_image_copy"}),
    resource_prefixes=("ALIYUN::", "alicloud_"),
    template_dialect=Dialect.ROS,
    template_version_key="ROSTemplateFormatVersion",
    store_schemes=("oss",),
    cross_region_copy="stream",  # OSS CopyObject works only within one region
    record_images_help=HOW_TO_COPY,
)
