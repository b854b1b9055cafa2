variable "name" {
  description = "Bucket name (globally unique)."
  type        = string
}

variable "force_destroy" {
  description = "Let terraform destroy delete the objects too; false keeps a bucket that has objects (destroy fails)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the objects; null for SSE-S3 (AES256), for writers that support only that."
  type        = string
  default     = null
}

variable "expiration_days" {
  description = "Days after which current objects expire; null keeps them."
  type        = number
  default     = null
}

variable "noncurrent_version_expiration_days" {
  description = "Days old (overwritten or deleted) object versions are kept."
  type        = number
  default     = 90
}

variable "policy_json" {
  description = "More bucket policy statements (an IAM policy document JSON), merged with the TLS-only deny; null for none."
  type        = string
  default     = null
}
