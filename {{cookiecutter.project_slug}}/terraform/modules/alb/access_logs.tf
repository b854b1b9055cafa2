# Access logs: a private bucket that only Elastic Load Balancing writes to, under this account's prefix.

locals {
  access_logs_bucket = "${var.name}-alb-logs-${data.aws_caller_identity.current.account_id}"
  access_logs_prefix = "arn:${data.aws_partition.current.partition}:s3:::${local.access_logs_bucket}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"

  # Who writes the logs. In Regions opened before August 2022, Elastic Load Balancing's own account of the Region
  # (AWS documents these ids); in later Regions, the log delivery service principal. A table, not the
  # aws_elb_service_account data source, which fails the plan in Regions that have no such account.
  elb_log_accounts = {
    "af-south-1"     = "098369216593"
    "ap-east-1"      = "754344448648"
    "ap-northeast-1" = "582318560864"
    "ap-northeast-2" = "600734575887"
    "ap-northeast-3" = "383597477331"
    "ap-south-1"     = "718504428378"
    "ap-southeast-1" = "114774131450"
    "ap-southeast-2" = "783225319266"
    "ap-southeast-3" = "589379963580"
    "ca-central-1"   = "985666609251"
    "eu-central-1"   = "054676820928"
    "eu-north-1"     = "897822967062"
    "eu-south-1"     = "635631232127"
    "eu-west-1"      = "156460612806"
    "eu-west-2"      = "652711504416"
    "eu-west-3"      = "009996457667"
    "me-south-1"     = "076674570225"
    "sa-east-1"      = "507241528517"
    "us-east-1"      = "127311923021"
    "us-east-2"      = "033677994240"
    "us-west-1"      = "027434742980"
    "us-west-2"      = "797873946194"
  }
  elb_log_account = lookup(local.elb_log_accounts, data.aws_region.current.region, null)
}

data "aws_iam_policy_document" "access_logs" {
  statement {
    sid       = "LoadBalancerLogDelivery"
    actions   = ["s3:PutObject"]
    resources = [local.access_logs_prefix]

    principals {
      type        = local.elb_log_account == null ? "Service" : "AWS"
      identifiers = [local.elb_log_account == null ? "logdelivery.elasticloadbalancing.amazonaws.com" : "arn:${data.aws_partition.current.partition}:iam::${local.elb_log_account}:root"]
    }
  }
}

module "access_logs" {
  source = "../private_bucket"

  name                               = local.access_logs_bucket
  force_destroy                      = !var.deletion_protection
  expiration_days                    = var.access_log_retention_days
  noncurrent_version_expiration_days = 7
  policy_json                        = data.aws_iam_policy_document.access_logs.json
}
