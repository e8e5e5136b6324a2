"""Alibaba Cloud: ROS and Terraform (alicloud) resource tables, image-ID syntax, endpoints."""

from __future__ import annotations

import re

from preprocessor.model import PropertyRole
from providers.spec import Dialect, ImageCopier, ImageSharer, PropertySpec, Provider, ResourceSpec

_IMAGE = PropertySpec(("ImageId",))
_FAMILY = PropertySpec(("ImageFamily",), PropertyRole.IMAGE_FAMILY)


def _path(dotted: str) -> PropertySpec:
    return PropertySpec(tuple(dotted.split(".")))


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
    # From Alibaba Cloud's schema sources (tests/data/alicloud-image-properties.json, tests/test_providers.py).
    _ros("ALIYUN::ECS::InstanceClone", _IMAGE),
    _ros("ALIYUN::ECS::PrepayInstance", _IMAGE),
    _ros("ALIYUN::ECS::PrepayInstanceGroupClone", _IMAGE),
    _ros("ALIYUN::ECS::LaunchTemplateVersion", _path("LaunchTemplateData.ImageId")),
    _ros(
        "ALIYUN::ECS::AutoProvisioningGroup",
        _path("LaunchConfiguration.ImageId"),
        _path("LaunchTemplateConfig.ImageId"),
    ),
    _ros("ALIYUN::CS::ClusterNodePool", _path("ScalingGroup.ImageId")),
    _ros("ALIYUN::CS::ManagedKubernetesCluster", _path("NodePools.ScalingGroup.ImageId")),
    _ros("ALIYUN::CS::ManagedEdgeKubernetesCluster", _path("NodePools.ScalingGroup.ImageId")),
    _ros("ALIYUN::CS::KubernetesCluster", _path("NodePools.ScalingGroup.ImageId")),
    _ros("ALIYUN::CS::Cluster", _IMAGE),
    _ros("ALIYUN::EHPC::ClusterV2", _path("Manager.ManagerNode.ImageId"), _path("Queues.ComputeNodes.ImageId")),
    _ros("ALIYUN::EHPC::Queue", _path("ComputeNodes.ImageId")),
    _ros("ALIYUN::EHPC::AutoScaleConfig", _IMAGE, _path("Queues.QueueImageId")),
    _ros("ALIYUN::MarketPlace::ImageSubscription", _IMAGE),
    _ros("ALIYUN::MarketPlace::Image", _IMAGE),
    _tf("alicloud_instance", "image_id"),
    _tf("alicloud_ess_scaling_configuration", "image_id"),
    _tf("alicloud_ecs_launch_template", "image_id"),
    _tf("alicloud_ehpc_cluster", "image_id"),
    _tf("alicloud_ehpc_cluster_v2", "manager.manager_node.image_id", "queues.compute_nodes.image_id"),
    _tf("alicloud_ecs_instance_set", "image_id"),
    _tf("alicloud_launch_template", "image_id"),
    _tf("alicloud_ess_instance_refresh", "desired_configuration_image_id"),
    _tf("alicloud_cs_kubernetes", "image_id"),
    _tf("alicloud_cs_kubernetes_node_pool", "image_id", "upgrade_policy.image_id"),
    _tf("alicloud_ehpc_queue", "compute_nodes.image_id"),
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


def _ecs_copier() -> ImageCopier:
    from providers.alicloud_images import ECSImageCopier

    return ECSImageCopier()


def _ecs_sharer() -> ImageSharer:
    from providers.alicloud_images import ECSImageSharer

    return ECSImageSharer()


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
    # ALIYUN::ECS::CopyImage is not one: its copy goes to DestinationRegionId, not the stack's region.
    image_producers=frozenset(
        {
            "ALIYUN::ECS::CustomImage",
            "alicloud_image",
            "alicloud_image_copy",
            "alicloud_copy_image",
            "alicloud_image_import",
        }
    ),
    resource_prefixes=("ALIYUN::", "alicloud_"),
    template_dialect=Dialect.ROS,
    template_version_key="ROSTemplateFormatVersion",
    store_schemes=("oss",),
    cross_region_copy="stream",  # OSS CopyObject works only within one region
    image_copier=_ecs_copier,
    image_sharer=_ecs_sharer,
)
