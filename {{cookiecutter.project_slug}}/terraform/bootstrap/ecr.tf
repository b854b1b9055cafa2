module "ecr" {
  source = "../modules/ecr"

  name        = local.deploy.ecr_repository
  kms_key_arn = aws_kms_key.this.arn
  # Deploys tag what they run <environment>-<sha>; those images never expire with the SHA rule.
  deployed_tag_prefixes = [for environment in keys(local.deploy.environments) : "${environment}-"]
}

# One account per environment: CI pushes each image once, to the account of image_push_environments; ECR
# replicates it into the repository of the same name in every other environment's account, so each environment
# runs images from its own account.
locals {
  image_push_accounts = distinct([for environment in var.image_push_environments : lookup(var.environment_accounts, environment, local.account_id)])
  pushes_here         = contains(local.image_push_accounts, local.account_id)
  other_accounts      = distinct([for account in values(var.environment_accounts) : account if account != local.account_id])
}

resource "aws_ecr_replication_configuration" "this" {
  count = local.pushes_here && length(local.other_accounts) > 0 ? 1 : 0

  replication_configuration {
    rule {
      dynamic "destination" {
        for_each = local.other_accounts

        content {
          region      = local.region
          registry_id = destination.value
        }
      }

      repository_filter {
        filter      = local.deploy.ecr_repository
        filter_type = "PREFIX_MATCH"
      }
    }
  }
}

# The receiving accounts let the pushing account replicate into this one repository.
data "aws_iam_policy_document" "ecr_replication" {
  statement {
    sid       = "ReplicateFromThePushingAccount"
    actions   = ["ecr:CreateRepository", "ecr:ReplicateImage"]
    resources = [module.ecr.repository_arn]

    principals {
      type        = "AWS"
      identifiers = [for account in local.image_push_accounts : "arn:${local.partition}:iam::${account}:root"]
    }
  }
}

resource "aws_ecr_registry_policy" "this" {
  count = local.pushes_here ? 0 : 1

  policy = data.aws_iam_policy_document.ecr_replication.json
}
