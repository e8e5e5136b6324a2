"""AWS: CloudFormation and Terraform (aws) resource tables, AMI syntax, endpoints."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from preprocessor.model import PropertyRole
from providers.spec import Dialect, ImageCopier, ImageSharer, PropertySpec, Provider, ResourceSpec

if TYPE_CHECKING:
    from preprocessor.oci.auth import Credentials as RegistryCredentials


def _cfn(resource_type: str, *paths: str) -> ResourceSpec:
    props = tuple(PropertySpec(tuple(path.split("."))) for path in paths)
    return ResourceSpec(resource_type, Dialect.CLOUDFORMATION, "aws", props)


def _tf(resource_type: str, path: str) -> ResourceSpec:
    return ResourceSpec(resource_type, Dialect.TERRAFORM, "aws", (PropertySpec(tuple(path.split("."))),))


def _container(resource_type: str, *paths: str) -> ResourceSpec:
    dialect = Dialect.CLOUDFORMATION if "::" in resource_type else Dialect.TERRAFORM
    props = tuple(PropertySpec(tuple(p.split(".")), PropertyRole.CONTAINER_IMAGE) for p in paths)
    return ResourceSpec(resource_type, dialect, "aws", props)


RESOURCES = (
    _cfn("AWS::EC2::Instance", "ImageId"),
    _cfn("AWS::EC2::LaunchTemplate", "LaunchTemplateData.ImageId"),
    _cfn("AWS::AutoScaling::LaunchConfiguration", "ImageId"),
    # From the CloudFormation resource schemas (tests/data/aws-ami-properties.json, tests/test_providers.py).
    _cfn("AWS::AutoScaling::AutoScalingGroup", "MixedInstancesPolicy.LaunchTemplate.Overrides.ImageId"),
    _cfn(
        "AWS::Batch::ComputeEnvironment",
        "ComputeResources.ImageId",
        "ComputeResources.Ec2Configuration.ImageIdOverride",
    ),
    _cfn("AWS::EC2::SpotFleet", "SpotFleetRequestConfigData.LaunchSpecifications.ImageId"),
    _cfn(
        "AWS::EMR::Cluster",
        "CustomAmiId",
        "Instances.CoreInstanceFleet.InstanceTypeConfigs.CustomAmiId",
        "Instances.CoreInstanceGroup.CustomAmiId",
        "Instances.MasterInstanceFleet.InstanceTypeConfigs.CustomAmiId",
        "Instances.MasterInstanceGroup.CustomAmiId",
        "Instances.TaskInstanceFleets.InstanceTypeConfigs.CustomAmiId",
        "Instances.TaskInstanceGroups.CustomAmiId",
    ),
    _cfn("AWS::EMR::InstanceFleetConfig", "InstanceTypeConfigs.CustomAmiId"),
    _cfn("AWS::EMR::InstanceGroupConfig", "CustomAmiId"),
    _cfn("AWS::OpsWorks::Instance", "AmiId"),
    _cfn("AWS::PCS::ComputeNodeGroup", "AmiId"),
    _cfn("AWS::RDS::CustomDBEngineVersion", "ImageId"),
    _cfn("AWS::WorkspacesInstances::WorkspaceInstance", "ManagedInstance.ImageId"),
    _tf("aws_instance", "ami"),
    _tf("aws_launch_template", "image_id"),
    _tf("aws_launch_configuration", "image_id"),
    _tf("aws_spot_instance_request", "ami"),
    # Container images (CloudFormation resource reference; Terraform aws provider docs).
    _container("AWS::ECS::TaskDefinition", "ContainerDefinitions.Image"),
    _container("AWS::Lambda::Function", "Code.ImageUri"),
    _container(
        "AWS::Batch::JobDefinition",
        "ContainerProperties.Image",
        "EcsProperties.TaskProperties.Containers.Image",
        "EksProperties.PodProperties.Containers.Image",
        "EksProperties.PodProperties.InitContainers.Image",
        "NodeProperties.NodeRangeProperties.Container.Image",
        "NodeProperties.NodeRangeProperties.EcsProperties.TaskProperties.Containers.Image",
        "NodeProperties.NodeRangeProperties.EksProperties.PodProperties.Containers.Image",
        "NodeProperties.NodeRangeProperties.EksProperties.PodProperties.InitContainers.Image",
    ),
    _container("AWS::AppRunner::Service", "SourceConfiguration.ImageRepository.ImageIdentifier"),
    _container("aws_lambda_function", "image_uri"),
    _container("aws_apprunner_service", "source_configuration.image_repository.image_identifier"),
)

REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1",
    "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1",
    "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
    "il-central-1", "me-south-1", "me-central-1", "sa-east-1",
)  # fmt: skip


def _ec2_copier() -> ImageCopier:
    from providers.aws_images import EC2ImageCopier

    return EC2ImageCopier()


def _ec2_sharer() -> ImageSharer:
    from providers.aws_images import EC2ImageSharer

    return EC2ImageSharer()


def _ecr_credentials(host: str) -> RegistryCredentials | None:
    from providers.aws_registry import ecr_credentials

    return ecr_credentials(host)


PROVIDER = Provider(
    name="aws",
    resources=RESOURCES,
    regions=REGIONS,
    custom_image=re.compile(r"ami-(?:[0-9a-f]{8}|[0-9a-f]{17})"),
    custom_image_prefix="ami-",
    object_endpoint="s3.{region}.amazonaws.com",
    object_internal_endpoint="s3.{region}.amazonaws.com",
    s3_endpoint="https://s3.{region}.amazonaws.com",
    s3_addressing_style="virtual",
    registry_host="{account}.dkr.ecr.{region}.amazonaws.com",
    registry_hosts=(r"[0-9]{12}\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?",),
    image_id_help="an AMI ID looks like ami-0123456789abcdef0 (ami- and 8 or 17 lowercase hex digits)",
    image_producers=frozenset({"AWS::ImageBuilder::Image", "aws_ami", "aws_ami_copy", "aws_ami_from_instance"}),
    resource_prefixes=("AWS::", "aws_"),
    template_dialect=Dialect.CLOUDFORMATION,
    template_version_key="AWSTemplateFormatVersion",
    cross_region_copy="server",  # S3 CopyObject reads from any region
    image_copier=_ec2_copier,
    image_sharer=_ec2_sharer,
    registry_credentials=_ecr_credentials,
    registry_pull_tokens=True,
)
