variable "name" {
  description = "Replication group id and name prefix, e.g. <project>-staging (at most 40 characters)."
  type        = string

  validation {
    condition     = length(var.name) <= 40
    error_message = "ElastiCache replication group ids are at most 40 characters."
  }
}

variable "vpc_id" {
  description = "VPC the cache lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the cache nodes."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect on 6379, keyed by a label used in the rule description."
  type        = map(string)
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
}

variable "node_type" {
  description = "Node size, e.g. cache.t4g.micro (staging) or cache.m7g.large (production)."
  type        = string
}

variable "num_cache_clusters" {
  description = "Nodes in the group: 1 is a single primary; 2 or more adds replicas with automatic failover and multi-AZ."
  type        = number

  validation {
    condition     = var.num_cache_clusters >= 1 && var.num_cache_clusters <= 6
    error_message = "num_cache_clusters must be between 1 and 6."
  }
}

variable "snapshot_retention_days" {
  description = "Days of automatic snapshots."
  type        = number
  default     = 7
}

variable "log_retention_days" {
  description = "Days to keep the slow log."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key for data at rest, the AUTH token secret and the slow log."
  type        = string
}

variable "auth_token_version" {
  description = "Bump to generate a new AUTH token and write it to the replication group and the secret together (ROTATE keeps the old one valid too until the next change)."
  type        = number
  default     = 1
}
