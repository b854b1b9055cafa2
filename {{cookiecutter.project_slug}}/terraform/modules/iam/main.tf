data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

# Only ECS tasks of this account and region may assume these roles.
data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:*"]
    }
  }
}

# Execution role: what the ECS agent needs to start a task. The application never gets these permissions.
resource "aws_iam_role" "execution" {
  permissions_boundary = var.permissions_boundary_arn
  name                 = var.execution_role_name
  description          = "ECS agent of ${var.name}: pull the image, write logs, read the task's secrets"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid = "PullImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [var.ecr_repository_arn]
  }

  # GetAuthorizationToken has no resource-level permissions: AWS accepts only "*" here.
  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for arn in var.log_group_arns : "${arn}:log-stream:*"]
  }

  statement {
    sid       = "ReadTaskSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = var.secret_arns
  }

  statement {
    sid       = "DecryptTaskSecrets"
    actions   = ["kms:Decrypt"]
    resources = var.kms_key_arns

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-tasks"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# Task role: what the application itself calls. Each statement names the app's own resources.
resource "aws_iam_role" "task" {
  permissions_boundary = var.permissions_boundary_arn
  name                 = var.task_role_name
  description          = "The ${var.name} application"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
}

locals {
  database_connect_arn = "arn:${data.aws_partition.current.partition}:rds-db:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:dbuser:${var.database_resource_id}/${var.database_user}"
}

data "aws_iam_policy_document" "task" {
  # IAM database authentication: a token per new connection, as the app's own database role and no other.
  statement {
    sid       = "ConnectAsTheAppRole"
    actions   = ["rds-db:connect"]
    resources = [local.database_connect_arn]
  }

  dynamic "statement" {
    for_each = var.task_permissions

    content {
      sid       = statement.key
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "application"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# Worker task role (async_consumer = celery): the application's rights, so the tasks it runs work as in web; the
# stack adds consuming the task queue, which the web role never gets.
resource "aws_iam_role" "worker_task" {
  count = var.worker_task_role_name == null ? 0 : 1

  permissions_boundary = var.permissions_boundary_arn
  name                 = var.worker_task_role_name
  description          = "The ${var.name} background-task worker"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "worker_task" {
  count = var.worker_task_role_name == null ? 0 : 1

  name   = "application"
  role   = aws_iam_role.worker_task[0].id
  policy = data.aws_iam_policy_document.task.json
}

# One-off task role (migrate): reads the database master secret at each new connection, because migrations change
# the schema and make sure the app's role exists. The services never get this role.
resource "aws_iam_role" "one_off_task" {
  permissions_boundary = var.permissions_boundary_arn
  name                 = var.one_off_task_role_name
  description          = "One-off tasks of ${var.name} (migrate): the database as its master user"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "one_off_task" {
  statement {
    sid       = "ReadDatabaseMasterSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.database_master_secret_arn]
  }

  statement {
    sid       = "DecryptDatabaseMasterSecret"
    actions   = ["kms:Decrypt"]
    resources = var.kms_key_arns

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "one_off_task" {
  name   = "one-off-tasks"
  role   = aws_iam_role.one_off_task.id
  policy = data.aws_iam_policy_document.one_off_task.json
}
