variable "state_bucket_name" {
  description = "S3 bucket for every Terraform state of this project; null means <project>-terraform-state. Keep ../backend.hcl in step."
  type        = string
  default     = null
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub Actions OIDC provider; false when another stack already did (one per account)."
  type        = bool
  default     = true
}

variable "terraform_role_managed_policy_arns" {
  description = "Managed policies of the terraform role, which creates and changes every resource of the environments."
  type        = list(string)
  default     = ["arn:aws:iam::aws:policy/PowerUserAccess"]
}
