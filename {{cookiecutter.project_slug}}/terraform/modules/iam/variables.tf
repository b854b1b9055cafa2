variable "name" {
  description = "The environment's name (deploy.json cluster), used in the roles' descriptions."
  type        = string
}

variable "execution_role_name" {
  description = "Name of the ECS execution role (deploy.json execution_role): one of the two roles the CI deploy role may pass."
  type        = string
}

variable "task_role_name" {
  description = "Name of the application's task role (deploy.json task_role): the other role the CI deploy role may pass."
  type        = string
}

variable "worker_task_role_name" {
  description = "Name of the background-task worker's role (deploy.json worker_task_role), or null where no ECS service consumes the task queue."
  type        = string
  default     = null
}

variable "one_off_task_role_name" {
  description = "Name of the one-off tasks' role (deploy.json one_off_task_role), which may read the database master secret."
  type        = string
}

variable "database_resource_id" {
  description = "Resource id of the RDS instance (db-...), for the rds-db:connect permission."
  type        = string
}

variable "database_user" {
  description = "The application's database role: the only one the task role may connect as (IAM authentication)."
  type        = string
}

variable "database_master_secret_arn" {
  description = "Secrets Manager secret RDS keeps the master password in; only the one-off task role reads it."
  type        = string
}

variable "ecr_repository_arn" {
  description = "The one repository the execution role may pull from."
  type        = string
}

variable "log_group_arns" {
  description = "Log groups the containers write to."
  type        = list(string)
}

variable "secret_arns" {
  description = "Secrets Manager secrets the task definitions inject (without :json-key:: suffixes)."
  type        = list(string)
}

variable "kms_key_arns" {
  description = "KMS keys that encrypt those secrets; usable only through Secrets Manager."
  type        = list(string)
}

variable "task_permissions" {
  description = "The application's own permissions, statement id => { actions, resources }. Actions and resources are validated: no \"*\" and no service wildcard."
  type = map(object({
    actions   = list(string)
    resources = list(string)
  }))
  default = {}

  validation {
    condition = alltrue([
      for statement in values(var.task_permissions) :
      alltrue([for action in statement.actions : action != "*" && !endswith(action, ":*")]) &&
      alltrue([for resource in statement.resources : resource != "*"])
    ])
    error_message = "task_permissions must name actions and resources: no \"*\" action, no \"service:*\", no \"*\" resource."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of every role this module creates (terraform/bootstrap's workload boundary, deploy.json permissions_boundary)."
  type        = string
}
