"""deploypkg: region-aware deployment packages for ROS, CloudFormation and Terraform templates."""

__version__ = "0.1.0"
