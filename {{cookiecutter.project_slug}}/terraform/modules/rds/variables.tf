variable "name" {
  description = "Instance identifier and name prefix, e.g. <project>-staging."
  type        = string
}

variable "vpc_id" {
  description = "VPC the database lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two AZs."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect on 5432, keyed by a label used in the rule description."
  type        = map(string)
}

variable "engine_version" {
  description = "PostgreSQL major version; the same major as the local docker compose stack."
  type        = string
  default     = "17"
}

variable "instance_class" {
  description = "Instance size, e.g. db.t4g.micro (staging) or db.m7g.large (production)."
  type        = string
}

variable "allocated_storage" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20
}

variable "max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 100
}

variable "multi_az" {
  description = "Keep a synchronous standby in another AZ (production)."
  type        = bool
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse to delete the instance until this is switched off."
  type        = bool
  default     = true
}

variable "database_name" {
  description = "Name of the application's database."
  type        = string
}

variable "username" {
  description = "Master user name; its password is generated and kept by RDS in Secrets Manager."
  type        = string
  default     = "app"
}

variable "slow_query_log_ms" {
  description = "Statements slower than this many milliseconds are logged."
  type        = number
  default     = 500
}

variable "log_retention_days" {
  description = "Days to keep the exported PostgreSQL logs."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights, the master secret and the log groups."
  type        = string
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of every role this module creates (terraform/bootstrap's workload boundary, deploy.json permissions_boundary)."
  type        = string
}
