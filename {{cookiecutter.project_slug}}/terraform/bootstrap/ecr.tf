module "ecr" {
  source = "../modules/ecr"

  name        = local.deploy.ecr_repository
  kms_key_arn = aws_kms_key.this.arn
}
