# The SHA each deploy leaves running (.github/scripts/deploy.sh writes it after a deploy; its parameter history is
# the deploy history that "rollback previous" reads). Terraform creates it with the first apply's image_tag and
# never writes it again, and registers its own task definition revisions with the image it holds, so a terraform
# change never puts an older image back in a new revision.
resource "aws_ssm_parameter" "deployed_sha" {
  #checkov:skip=CKV2_AWS_34:A commit SHA is public (it is in the image tag and the git history); nothing to encrypt.
  name           = local.names.deployed_sha_parameter
  description    = "Git SHA of the image deployed to ${var.environment}; the parameter history is the deploy history."
  type           = "String"
  insecure_value = var.image_tag

  lifecycle {
    ignore_changes = [insecure_value]
  }
}
