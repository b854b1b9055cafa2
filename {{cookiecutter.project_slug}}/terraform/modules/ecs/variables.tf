variable "name" {
  description = "Cluster name (deploy.json environments.<env>.cluster); also the prefix of the log group and security group."
  type        = string
}

variable "services" {
  description = "Long-running services, role => ECS service name (deploy.json services). The task definition family is the service name and the container is named after the role."
  type        = map(string)
}

variable "one_off_tasks" {
  description = "Task definitions CI runs once per deploy, role => family (deploy.json one_off_tasks), e.g. migrate."
  type        = map(string)
}

variable "load_balanced_role" {
  description = "The service role that serves HTTP behind the load balancer."
  type        = string
  default     = "web"
}

variable "image" {
  description = "Image of the revisions terraform registers, <ecr url>:<git sha>: the SHA deployed now. CI registers the revisions of later deploys."
  type        = string
}

variable "container_port" {
  description = "Port the web role listens on (deploy.json container_port, gunicorn's bind)."
  type        = number
}

variable "environment" {
  description = "Plain environment variables for every container. Never put secrets here: use secrets."
  type        = map(string)
}

variable "task_environment" {
  description = "Plain environment variables of one role's container, role => { name => value }, over environment. Never secrets."
  type        = map(map(string))
  default     = {}
}

variable "secrets" {
  description = "Environment variables injected by ECS from Secrets Manager, name => secret ARN (optionally with :json-key::)."
  type        = map(string)
}

variable "execution_role_arn" {
  description = "Role ECS uses to pull the image, write logs and read the secrets."
  type        = string
}

variable "task_role_arn" {
  description = "Role the application runs as."
  type        = string
}

variable "service_task_role_arns" {
  description = "Services that run as another role than task_role_arn: role (deploy.json services key) => role ARN."
  type        = map(string)
  default     = {}
}

variable "one_off_task_role_arn" {
  description = "IAM role the one-off tasks (migrate) run as; services run as task_role_arn."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets the tasks run in."
  type        = list(string)
}

variable "target_group_arn" {
  description = "Load balancer target group of the web role."
  type        = string
}

variable "load_balancer_security_group_id" {
  description = "Security group of the load balancer, the only source allowed to reach container_port."
  type        = string
}

variable "load_balancer_resource_label" {
  description = "app/<lb>/<id>/targetgroup/<tg>/<id>, for scaling on requests per target."
  type        = string
}

variable "backend_security_groups" {
  description = "Backends the tasks may open connections to, label => { port, security_group_id }."
  type = map(object({
    port              = number
    security_group_id = string
  }))
}

variable "cpu" {
  description = "Task CPU units (256 = 0.25 vCPU)."
  type        = number
  default     = 512
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 1024
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64; must match the image CI builds."
  type        = string
  default     = "X86_64"
}

variable "min_capacity" {
  description = "Fewest tasks per service (also the initial desired count)."
  type        = number
}

variable "max_capacity" {
  description = "Most tasks per service."
  type        = number
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation autoscaling keeps the service at."
  type        = number
  default     = 60
}

variable "requests_per_target" {
  description = "Load balancer requests per task per minute autoscaling aims for."
  type        = number
  default     = 1000
}

variable "health_check_grace_period_seconds" {
  description = "Seconds a new web task has before failed load balancer health checks count."
  type        = number
  default     = 60
}

variable "log_retention_days" {
  description = "Days to keep container logs."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the container log group."
  type        = string
}


variable "deployment_alarm_names" {
  description = "CloudWatch alarms that fail and roll back a deployment of the load-balanced role while they are in ALARM."
  type        = list(string)
  default     = []
}
