variable "name" {
  description = "Repository name (deploy.json's ecr_repository)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the images at rest."
  type        = string
}

variable "deployed_tag_prefixes" {
  description = "Tag prefixes of images an environment ran (deploys add <environment>-<sha>): kept by a rule of their own."
  type        = list(string)
}

variable "keep_deployed_images" {
  description = "How many deployed images (tags starting with a deployed_tag_prefixes entry) to keep."
  type        = number
  default     = 500
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
