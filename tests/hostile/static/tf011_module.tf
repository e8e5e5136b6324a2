# A Terraform 0.11 module, never upgraded: HCL1 allowed quoted attribute names.
variable "image" {
  default = "m-bp1g7004ksh0oeuc1234"
}

resource "alicloud_instance" "web" {
  image_id      = "${var.image}"
  instance_type = "ecs.g7.large"
  "tags" = {
    Name = "web"
  }
}
