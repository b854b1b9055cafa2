variable "name" {
  description = "Repository name (deploy.json's ecr_repository)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the images at rest."
  type        = string
}

variable "keep_tagged_images" {
  description = "How many SHA-tagged images to keep; older ones expire."
  type        = number
  default     = 50
}

variable "untagged_image_expiry_days" {
  description = "Days after which untagged images expire."
  type        = number
  default     = 7
}

variable "deployed_tag_prefixes" {
  description = "Tag prefixes deploys add to the image they run, one per environment (\"staging-\", \"production-\"); images so tagged are kept ahead of every other rule."
  type        = list(string)
  default     = []
}

variable "keep_deployed_images" {
  description = "Images kept per deployed_tag_prefixes entry: the deployed one and its rollback targets. Large, so that only deploys far in the past expire."
  type        = number
  default     = 1000
}
