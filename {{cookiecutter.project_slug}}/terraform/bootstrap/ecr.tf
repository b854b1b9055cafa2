module "ecr" {
  source = "../modules/ecr"

  name        = local.deploy.ecr_repository
  kms_key_arn = aws_kms_key.this.arn
  # Deploys tag what they run <environment>-<sha> (.github/scripts/deploy.sh): those images stay for rollbacks.
  deployed_tag_prefixes = [for environment in keys(local.deploy.environments) : "${environment}-"]
}
