variable "name" {
  description = "Name prefix for every resource, e.g. <project>-staging."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's IPv4 range. Each subnet takes a /4 slice of it (public from the first, private from the ninth)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "az_count" {
  description = "How many availability zones to spread the subnets over (at least 2: the load balancer and multi-AZ RDS need two)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 8
    error_message = "az_count must be between 2 and 8."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all private subnets (cheaper) instead of one per AZ (survives an AZ outage)."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow logs."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the flow log group."
  type        = string
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of every role this module creates (terraform/bootstrap's workload boundary, deploy.json permissions_boundary)."
  type        = string
}
