# The background-task queue, for either consumer. tasks_lambda.tf or tasks_celery.tf sets
# local.tasks_consumer_timeout_seconds, the longest one message may take there.
variable "tasks_max_receive_count" {
  description = "Receives before a task that keeps failing moves to the dead-letter queue."
  type        = number
  default     = 5
}

module "tasks_queue" {
  source = "../queue"

  name                     = "${local.name}-tasks"
  consumer_timeout_seconds = local.tasks_consumer_timeout_seconds
  max_receive_count        = var.tasks_max_receive_count
  kms_key_arn              = aws_kms_key.this.arn
}

locals {
  tasks_queue_url                  = module.tasks_queue.url
  tasks_dead_letter_queue_url      = module.tasks_queue.dead_letter_url
  tasks_visibility_timeout_seconds = tostring(module.tasks_queue.visibility_timeout_seconds)
  # monitoring.tf alarms on the queue's backlog and on anything in its dead-letter queue.
  tasks_queue_name             = module.tasks_queue.name
  tasks_dead_letter_queue_name = module.tasks_queue.dead_letter_name
}

# The app enqueues from its tasks (web and, with Celery, the worker): only SendMessage, only on this queue.
data "aws_iam_policy_document" "tasks_send" {
  statement {
    sid       = "EnqueueTasks"
    actions   = ["sqs:SendMessage"]
    resources = [module.tasks_queue.arn]
  }
  statement {
    sid       = "EncryptedQueue"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "tasks_send" {
  name   = "enqueue-tasks"
  role   = local.names.task_role
  policy = data.aws_iam_policy_document.tasks_send.json

  depends_on = [module.iam]
}
