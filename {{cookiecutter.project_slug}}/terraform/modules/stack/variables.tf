variable "environment" {
  description = "Environment name, a key of deploy.json environments: it selects the cluster, service and role names."
  type        = string
}

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
  description = "Git SHA of an image in ECR for the first apply. Afterwards deploys record the SHA they run in the deployed_sha_parameter (deploy.json) and terraform's revisions use that; changing this changes nothing."
  type        = string
}

variable "secret_key_version" {
  description = "Bump to generate and store a new Django SECRET_KEY (signs every user out)."
  type        = number
  default     = 1
}

variable "redis_auth_token_version" {
  description = "Bump to generate a new Redis AUTH token (written to the cache and its secret together; tasks pick it up on their next start)."
  type        = number
  default     = 1
}

variable "vpc_cidr_block" {
  description = "The VPC's IPv4 range."
  type        = string
}

variable "az_count" {
  description = "Availability zones to spread over."
  type        = number
}

variable "single_nat_gateway" {
  description = "One shared NAT gateway (cheaper) instead of one per AZ."
  type        = bool
}

variable "deletion_protection" {
  description = "Protect the database and the load balancer from deletion."
  type        = bool
}

variable "db_instance_class" {
  description = "RDS instance size."
  type        = string
}

variable "db_allocated_storage" {
  description = "Initial database storage in GiB."
  type        = number
}

variable "db_max_allocated_storage" {
  description = "Database storage autoscaling ceiling in GiB."
  type        = number
}

variable "db_multi_az" {
  description = "Keep a standby database in another AZ."
  type        = bool
}

variable "db_backup_retention_days" {
  description = "Days of automated database backups."
  type        = number
}

variable "redis_node_type" {
  description = "ElastiCache node size."
  type        = string
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes; 2 or more adds a replica with automatic failover."
  type        = number
}

variable "task_cpu" {
  description = "CPU units per task (1024 = 1 vCPU)."
  type        = number
}

variable "task_memory" {
  description = "Memory per task in MiB."
  type        = number
}

variable "min_tasks" {
  description = "Fewest web tasks."
  type        = number
}

variable "max_tasks" {
  description = "Most web tasks."
  type        = number
}

variable "log_level" {
  description = "Django LOG_LEVEL."
  type        = string
  default     = "INFO"
}

variable "slack_workspace_id" {
  description = "Slack workspace id authorised in the AWS Chatbot console; with slack_channel_id, alarms post to Slack."
  type        = string
  default     = null
}

variable "slack_channel_id" {
  description = "Slack channel id the alarms post to."
  type        = string
  default     = null
}

variable "alarm_email" {
  description = "Address subscribed to the alarms (confirm the e-mail AWS sends); null for none."
  type        = string
  default     = null
}
