# The load balancer (load_balancer.tf), its access logs (access_logs.tf), certificate (certificate.tf) and web
# application firewall (waf.tf).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  manage_dns = var.route53_zone_id != null
}
