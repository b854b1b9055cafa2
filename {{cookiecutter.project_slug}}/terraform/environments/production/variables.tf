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
  description = "Git SHA of an image in ECR for the first apply (the first push to main pushes one); deploys record later SHAs in SSM and terraform follows them."
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
