# The Lambda consumer: the app's image run with the `lambda` role, fed by the task queue through an event
# source mapping that reports partial batch failures, with a role that can only consume its own queue.
data "aws_partition" "current" {}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.function_name
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "consume" {
  statement {
    sid = "ConsumeTheTaskQueue"
    # ChangeMessageVisibility: the handler's backoff for a failed message.
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [var.queue_arn]
  }
  statement {
    sid       = "DeadLetterUnknownTasks"
    actions   = ["sqs:SendMessage"]
    resources = [var.dead_letter_queue_arn]
  }
  statement {
    sid       = "ConnectAsTheAppRole"
    actions   = ["rds-db:connect"]
    resources = [var.database_connect_arn]
  }
  statement {
    sid       = "ReadTheAppSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = var.secret_arns
  }
  statement {
    sid       = "EncryptedQueuesAndEnvironment"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "consume" {
  name   = "consume-task-queue"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.consume.json
}

# ENI management for running inside the VPC.
resource "aws_iam_role_policy_attachment" "vpc" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:failed messages go to the queue's own dead-letter queue (SQS redrive), not a function DLQ
  #checkov:skip=CKV_AWS_272:the code is a container image from the project's ECR repository; signing applies to zip packages
  function_name                  = var.function_name
  role                           = aws_iam_role.this.arn
  package_type                   = "Image"
  image_uri                      = var.image_uri
  timeout                        = var.timeout_seconds
  memory_size                    = var.memory_mb
  kms_key_arn                    = var.kms_key_arn
  reserved_concurrent_executions = var.maximum_concurrency

  image_config {
    command = var.command
  }

  environment {
    variables = var.environment
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.consume, aws_iam_role_policy_attachment.vpc]

  # Deploys point the function at each new image (deploy.json functions); terraform must not roll that back.
  lifecycle {
    ignore_changes = [image_uri]
  }
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = var.queue_arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.maximum_concurrency
  }
}
