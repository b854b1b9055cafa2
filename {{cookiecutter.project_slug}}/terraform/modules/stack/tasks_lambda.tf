# async_consumer = lambda: the task queue's consumer is a Lambda function running the app's image (`lambda` role).
variable "tasks_function_timeout_seconds" {
  description = "Timeout of the task function; the queue's visibility timeout is six times this."
  type        = number
  default     = 120
}

variable "tasks_function_concurrency" {
  description = "Most concurrent invocations of the task function (each holds database connections)."
  type        = number
  default     = 10
}

locals {
  # Every ECS service runs as the application's task role; the function has its own (modules/lambda_consumer).
  service_task_role_arns         = {}
  tasks_consumer_timeout_seconds = var.tasks_function_timeout_seconds
  # Celery's limit; the function's timeout bounds a task here.
  tasks_time_limit_seconds = ""
  # Lambda cannot inject secrets as ECS does: the function gets their ARNs, and config/env.py reads
  # <NAME>_SECRET_ARN at a cold start where ECS would have set <NAME>.
  tasks_function_environment = merge(
    { for name, arn in local.app_secrets : "${name}_SECRET_ARN" => arn },
    { METRICS_SERVICE = "tasks" },
  )
}

module "tasks_lambda" {
  source = "../lambda_consumer"

  function_name            = local.names.functions.tasks
  image_uri                = "${data.aws_ecr_repository.app.repository_url}:${var.image_tag}"
  timeout_seconds          = var.tasks_function_timeout_seconds
  maximum_concurrency      = var.tasks_function_concurrency
  environment              = merge(local.app_environment, local.service_environment, local.tasks_function_environment)
  secret_arns              = values(local.app_secrets)
  database_connect_arn     = module.iam.database_connect_arn
  permissions_boundary_arn = local.permissions_boundary_arn
  queue_arn                = module.tasks_queue.arn
  dead_letter_queue_arn    = module.tasks_queue.dead_letter_arn
  subnet_ids               = module.network.private_subnet_ids
  security_group_ids       = [module.ecs.security_group_id]
  kms_key_arn              = aws_kms_key.this.arn
}
