variable "function_name" {
  description = "Name of the Lambda function (deploy.json functions.tasks); the deploy points it at each new image."
  type        = string
}

variable "image_uri" {
  description = "ECR image URI the function runs (the app's image; its entry point takes the role as command)."
  type        = string
}

variable "command" {
  description = "Entry-point role the image runs as a Lambda function (docker-entrypoint.sh)."
  type        = list(string)
  default     = ["lambda"]
}

variable "timeout_seconds" {
  description = "Function timeout; the queue's visibility timeout must be at least six times this."
  type        = number
  default     = 120
}

variable "memory_mb" {
  description = "Function memory (CPU scales with it)."
  type        = number
  default     = 1024
}

variable "environment" {
  description = "Plain environment variables of the function (the same names the ECS tasks get). Never secrets."
  type        = map(string)
}

variable "queue_arn" {
  description = "ARN of the task queue the function consumes."
  type        = string
}

variable "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue, where the function sends messages naming no known task."
  type        = string
}

variable "batch_size" {
  description = "Most messages per invocation."
  type        = number
  default     = 10
}

variable "batching_window_seconds" {
  description = "How long the event source mapping gathers messages before invoking."
  type        = number
  default     = 5
}

variable "maximum_concurrency" {
  description = "Most concurrent invocations from the queue (2 to 1000), which bounds the database connections used."
  type        = number
  default     = 10
}

variable "subnet_ids" {
  description = "Private subnets the function runs in (to reach PostgreSQL and Redis)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the function (the tasks' group, which the database and cache admit)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key of the queues, the function's environment and its log group."
  type        = string
}

variable "log_retention_days" {
  description = "Days the function's logs are kept (a year, as for the other log groups)."
  type        = number
  default     = 365
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for the function's role, when the account uses one (null for none)."
  type        = string
  default     = null
}

variable "database_connect_arn" {
  description = "rds-db:connect resource of the app's database user (IAM database authentication)."
  type        = string
}

variable "secret_arns" {
  description = "Secrets Manager secrets the app reads at a cold start (Lambda cannot inject them as ECS does)."
  type        = list(string)
}
