# Account-wide pieces every environment and CI rely on: the state bucket, the image repository, GitHub's OIDC
# provider and the roles CI assumes. Names come from deploy.json, which the workflows read too.
locals {
  deploy       = jsondecode(file("${path.root}/../../deploy.json"))
  project      = local.deploy.project
  state_bucket = coalesce(var.state_bucket_name, "${local.project}-terraform-state")
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  region       = local.deploy.aws_region
  github_owner = split("/", local.deploy.github_repository)[0]
  github_name  = split("/", local.deploy.github_repository)[1]
  oidc_host    = "token.actions.githubusercontent.com"
  oidc_arn     = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn

  # The environments whose roles live in this account: every one in single-account mode (environment_accounts
  # empty), else those environment_accounts maps to the account bootstrap runs in.
  hosted_environments = { for environment, names in local.deploy.environments : environment => names if lookup(var.environment_accounts, environment, local.account_id) == local.account_id }
}

provider "aws" {
  region = local.region

  default_tags {
    tags = {
      Project   = local.project
      ManagedBy = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

resource "aws_kms_key" "this" {
  description             = "${local.project}: Terraform state and container images"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The account must administer its key; IAM policies then decide who uses it.
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.project}-bootstrap"
  target_key_id = aws_kms_key.this.key_id
}
