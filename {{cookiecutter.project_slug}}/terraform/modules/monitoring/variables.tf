variable "name" {
  description = "Prefix of every name here (the cluster name, deploy.json environments.<env>.cluster)."
  type        = string
}

variable "environment" {
  description = "Environment dimension value of the app's metrics (METRICS_ENVIRONMENT in the task definitions)."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the app's metrics (METRICS_NAMESPACE in the task definitions)."
  type        = string
}

variable "web_role" {
  description = "Role whose requests are measured (Service dimension value, METRICS_SERVICE of its tasks), a key of service_names."
  type        = string
  default     = "web"
}

variable "cluster_name" {
  description = "ECS cluster of the services."
  type        = string
}

variable "service_names" {
  description = "role => ECS service name; each gets a running-tasks alarm."
  type        = map(string)
}

variable "min_running_tasks" {
  description = "Alarm when a service runs fewer tasks than this for 5 minutes (its autoscaling minimum)."
  type        = number
}

variable "load_balancer_resource_label" {
  description = "app/<lb>/<id>/targetgroup/<tg>/<id> of the web target group (the alb module's resource_label)."
  type        = string
}

variable "db_instance_arn" {
  description = "ARN of the RDS instance; its identifier is the AWS/RDS dimension."
  type        = string
}

variable "container_log_group_names" {
  description = "Log groups the containers write to (awslogs); their ERROR lines are counted like the app log group's."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the app log group's lines (a year, like the containers' logs)."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the log group (its policy lets CloudWatch Logs use it)."
  type        = string
}

variable "latency_p99_threshold_ms" {
  description = "Alarm when the web requests' p99 latency stays above this many milliseconds."
  type        = number
  default     = 2000
}

variable "error_rate_threshold_percent" {
  description = "Alarm when this percentage of web requests answer 5xx."
  type        = number
  default     = 5
}

variable "db_cpu_threshold_percent" {
  description = "Alarm when the database CPU stays above this percentage for 15 minutes."
  type        = number
  default     = 80
}

variable "db_free_storage_threshold_bytes" {
  description = "Alarm when the database has less free storage than this."
  type        = number
  default     = 2147483648
}

variable "db_connections_threshold" {
  description = "Alarm when the database has more connections than this (leave room below max_connections)."
  type        = number
  default     = 80
}

variable "queue_name" {
  description = "SQS queue of the background tasks; null when there is none. Alarms on its depth and oldest message."
  type        = string
  default     = null
}

variable "dead_letter_queue_name" {
  description = "SQS dead-letter queue; null when there is none. Alarms as soon as it holds a message."
  type        = string
  default     = null
}

variable "queue_depth_threshold" {
  description = "Alarm when the queue holds more visible messages than this for 15 minutes."
  type        = number
  default     = 1000
}

variable "queue_oldest_message_threshold_seconds" {
  description = "Alarm when the oldest message has waited longer than this."
  type        = number
  default     = 900
}

variable "slack_workspace_id" {
  description = "Slack workspace (team) id authorised in the AWS Chatbot console; null to send alarms nowhere but e-mail."
  type        = string
  default     = null
}

variable "slack_channel_id" {
  description = "Slack channel id alarms are posted to (with slack_workspace_id)."
  type        = string
  default     = null
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (it must confirm the subscription); null for none."
  type        = string
  default     = null
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of every role this module creates (terraform/bootstrap's workload boundary, deploy.json permissions_boundary)."
  type        = string
}
