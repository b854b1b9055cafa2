# Sizes differ between environments; everything else is the same main.tf.

variable "domain_name" {
  description = "Host name the site is served on: ALLOWED_HOSTS, the CSRF origin and the certificate."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of domain_name; null when DNS is managed elsewhere (see modules/alb/README.md)."
  type        = string
  default     = null
}

variable "image_tag" {
  description = "Git SHA of the image the first task definition revisions use. CI deploys later SHAs on its own; changing this afterwards only registers a new revision."
  type        = string
}

variable "secret_key_version" {
  description = "Bump to generate and store a new Django SECRET_KEY (signs every user out)."
  type        = number
  default     = 1
}

variable "vpc_cidr_block" {
  description = "The VPC's IPv4 range."
  type        = string
  default     = "10.20.0.0/16"
}

variable "az_count" {
  description = "Availability zones to spread over."
  type        = number
  default     = 2
}

variable "single_nat_gateway" {
  description = "One shared NAT gateway (cheaper) instead of one per AZ."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Protect the database and the load balancer from deletion."
  type        = bool
  default     = true
}

variable "db_instance_class" {
  description = "RDS instance size."
  type        = string
  default     = "db.m7g.large"
}

variable "db_allocated_storage" {
  description = "Initial database storage in GiB."
  type        = number
  default     = 50
}

variable "db_max_allocated_storage" {
  description = "Database storage autoscaling ceiling in GiB."
  type        = number
  default     = 500
}

variable "db_multi_az" {
  description = "Keep a standby database in another AZ."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups."
  type        = number
  default     = 14
}

variable "redis_node_type" {
  description = "ElastiCache node size."
  type        = string
  default     = "cache.m7g.large"
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes; 2 or more adds a replica with automatic failover."
  type        = number
  default     = 2
}

variable "task_cpu" {
  description = "CPU units per task (1024 = 1 vCPU)."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Memory per task in MiB."
  type        = number
  default     = 2048
}

variable "min_tasks" {
  description = "Fewest web tasks."
  type        = number
  default     = 2
}

variable "max_tasks" {
  description = "Most web tasks."
  type        = number
  default     = 10
}

variable "log_level" {
  description = "Django LOG_LEVEL."
  type        = string
  default     = "INFO"
}
