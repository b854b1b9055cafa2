# Django's SECRET_KEY: generated at apply time and written write-only, so it is in no plan and no state.
ephemeral "random_password" "secret_key" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "secret_key" {
  name                    = "${local.name}/django-secret-key"
  description             = "Django SECRET_KEY of ${local.name}"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 7
  #checkov:skip=CKV2_AWS_57:Rotating SECRET_KEY signs every user out; rotate deliberately by bumping secret_string_wo_version (README).
}

resource "aws_secretsmanager_secret_version" "secret_key" {
  secret_id                = aws_secretsmanager_secret.secret_key.id
  secret_string_wo         = ephemeral.random_password.secret_key.result
  secret_string_wo_version = var.secret_key_version
}
