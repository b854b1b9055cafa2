# State bucket: versioned (state history), KMS-encrypted, private, TLS-only. Locking uses S3 lock files. The bucket
# is kept by S3 itself: it always holds state objects, and force_destroy is off.
module "state_bucket" {
  source = "../modules/private_bucket"

  name        = local.state_bucket
  kms_key_arn = aws_kms_key.this.arn
}
