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
  description = "GitHub subject contexts a deploy role accepts besides its own GitHub environment, per environment. CI pushes each new image from main with the staging role before any environment job runs. Never another environment's context."
  type        = map(list(string))
  default     = { staging = ["ref:refs/heads/main"] }

  validation {
    condition     = alltrue([for contexts in values(var.deploy_role_extra_contexts) : alltrue([for context in contexts : !startswith(context, "environment:")])])
    error_message = "deploy_role_extra_contexts: a role trusts only its own GitHub environment (added automatically); remove the environment:<name> entries."
  }
}

variable "terraform_role_extra_contexts" {
  description = "GitHub subject contexts an environment's terraform (apply) role accepts besides its own GitHub environment (added automatically), per environment. Pull requests never get it: they plan with the read-only plan role."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for contexts in values(var.terraform_role_extra_contexts) : alltrue([for context in contexts : !startswith(context, "environment:") && context != "pull_request"])])
    error_message = "terraform_role_extra_contexts: a role trusts only its own GitHub environment (added automatically) and never pull_request; remove those entries."
  }
}

variable "environment_accounts" {
  description = "environment => 12-digit AWS account id, for one account per environment (the layout AWS recommends): run bootstrap in each account with the same map; each account gets the roles of its own environments. Empty: every environment in this one account."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for account in values(var.environment_accounts) : can(regex("^[0-9]{12}$", account))])
    error_message = "environment_accounts: each value must be a 12-digit AWS account id, e.g. { staging = \"111111111111\", production = \"222222222222\" }."
  }
}

variable "image_push_environments" {
  description = "Environments whose deploy role may push images to ECR: CI pushes each new image once, from main, with the staging role; production only deploys images that are already there."
  type        = list(string)
  default     = ["staging"]
}
