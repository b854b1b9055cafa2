variable "state_bucket_name" {
  description = "S3 bucket for every Terraform state of this project; null means <project>-terraform-state. Keep the environments' backend.tf in step."
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

variable "deploy_role_extra_contexts" {
  description = "GitHub subject contexts a deploy role accepts besides its own GitHub environment, per environment. CI pushes each new image from main with the staging role before any environment job runs."
  type        = map(list(string))
  default     = { staging = ["ref:refs/heads/main"] }
}

variable "terraform_role_contexts" {
  description = "GitHub subject contexts the terraform (apply) role accepts besides the environments' (environment:<name>, added automatically). Pull requests never get it: they plan with the read-only plan role."
  type        = list(string)
  default     = []
}

variable "image_push_environments" {
  description = "Environments whose deploy role may push images to ECR: CI pushes each new image once, from main, with the staging role; production only deploys images that are already there."
  type        = list(string)
  default     = ["staging"]
}
