# async_consumer = celery: the worker ECS service (deploy.json services.worker, command ["worker"], created by the
# ecs module with the web service) consumes the task queue and scales on the backlog per running task.
variable "tasks_time_limit_seconds" {
  description = "Celery's hard time limit per task; the queue's visibility timeout is six times this."
  type        = number
  default     = 300
}

variable "tasks_backlog_per_worker" {
  description = "Visible messages per running worker task the worker service scales to keep."
  type        = number
  default     = 20
}

locals {
  # The worker runs as its own role: only it may consume the queue (the web role may only enqueue).
  service_task_role_arns         = { worker = module.iam.worker_task_role_arn }
  tasks_consumer_timeout_seconds = var.tasks_time_limit_seconds
  tasks_time_limit_seconds       = tostring(var.tasks_time_limit_seconds)
  tasks_worker_resource_id       = "service/${module.ecs.cluster_name}/${module.ecs.service_names["worker"]}"
}

# The worker consumes the queue with its own role: receive, delete, and the backoff's visibility changes.
data "aws_iam_policy_document" "tasks_consume" {
  statement {
    sid       = "ConsumeTasks"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [module.tasks_queue.arn]
  }
}

resource "aws_iam_role_policy" "tasks_consume" {
  name   = "consume-tasks"
  role   = module.iam.worker_task_role_name
  policy = data.aws_iam_policy_document.tasks_consume.json
}

# Tasks the worker runs may enqueue others, as web does.
resource "aws_iam_role_policy" "worker_tasks_send" {
  name   = "enqueue-tasks"
  role   = module.iam.worker_task_role_name
  policy = data.aws_iam_policy_document.tasks_send.json
}

resource "aws_appautoscaling_policy" "tasks_backlog" {
  name               = "${module.ecs.service_names["worker"]}-backlog"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = "ecs"
  resource_id        = local.tasks_worker_resource_id
  scalable_dimension = "ecs:service:DesiredCount"

  target_tracking_scaling_policy_configuration {
    target_value       = var.tasks_backlog_per_worker
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    customized_metric_specification {
      metrics {
        id          = "visible"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = "AWS/SQS"
            metric_name = "ApproximateNumberOfMessagesVisible"
            dimensions {
              name  = "QueueName"
              value = module.tasks_queue.name
            }
          }
        }
      }
      metrics {
        id          = "running"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"
            dimensions {
              name  = "ClusterName"
              value = module.ecs.cluster_name
            }
            dimensions {
              name  = "ServiceName"
              value = module.ecs.service_names["worker"]
            }
          }
        }
      }
      metrics {
        id          = "backlog_per_task"
        label       = "Visible messages per running worker task"
        expression  = "visible / IF(running < 1, 1, running)"
        return_data = true
      }
    }
  }

  depends_on = [module.ecs]
}
