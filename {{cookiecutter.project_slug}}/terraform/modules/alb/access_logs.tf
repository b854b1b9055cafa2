# Access logs: a private bucket that only Elastic Load Balancing writes to, under this account's prefix.

# The account Elastic Load Balancing writes access logs from, in regions that predate the log delivery service.
data "aws_elb_service_account" "current" {}

locals {
  access_logs_bucket = "${var.name}-alb-logs-${data.aws_caller_identity.current.account_id}"
  access_logs_prefix = "arn:${data.aws_partition.current.partition}:s3:::${local.access_logs_bucket}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"
}

data "aws_iam_policy_document" "access_logs" {
  statement {
    sid       = "LoadBalancerLogDelivery"
    actions   = ["s3:PutObject"]
    resources = [local.access_logs_prefix]

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "LoadBalancerAccountLogDelivery"
    actions   = ["s3:PutObject"]
    resources = [local.access_logs_prefix]

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
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
