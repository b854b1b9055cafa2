variable "name" {
  description = "Load balancer name and name prefix, e.g. <project>-staging (load balancer and target group names are at most 32 characters)."
  type        = string

  validation {
    condition     = length(var.name) <= 28
    error_message = "name must be at most 28 characters so that \"<name>-web\" fits the 32-character target group limit."
  }
}

variable "vpc_id" {
  description = "VPC of the load balancer and its targets."
  type        = string
}

variable "vpc_cidr_block" {
  description = "The VPC range; the load balancer may only talk to targets inside it."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets in at least two AZs."
  type        = list(string)
}

variable "domain_name" {
  description = "Host name the site is served on; the certificate is issued for it."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of domain_name. When set, certificate validation records and an alias record are managed here; when null, add the records shown in the outputs at your DNS provider."
  type        = string
  default     = null
}

variable "target_role" {
  description = "Role of the service behind the load balancer; names the target group."
  type        = string
  default     = "web"
}

variable "target_port" {
  description = "Port the targets listen on (deploy.json container_port)."
  type        = number
}

variable "health_check_path" {
  description = "Path the target health check requests (deploy.json health_check_path)."
  type        = string
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener: TLS 1.3 with TLS 1.2 fallback."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer (and keep the log bucket when it has objects)."
  type        = bool
  default     = true
}

variable "idle_timeout_seconds" {
  description = "Seconds an idle connection stays open."
  type        = number
  default     = 60
}

variable "access_log_retention_days" {
  description = "Days to keep access logs."
  type        = number
  default     = 365
}

variable "waf_log_retention_days" {
  description = "Days to keep WAF logs."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the WAF log group."
  type        = string
}
