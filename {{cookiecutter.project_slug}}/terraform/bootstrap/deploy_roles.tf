locals {
  ecs_arn = "arn:${local.partition}:ecs:${local.region}:${local.account_id}"
}

# The CI deploy role of one environment: check (staging: push) the image, register the task definitions, update the services,
# run the one-off tasks, and pass exactly this environment's task roles to ECS.
data "aws_iam_policy_document" "deploy" {
  for_each = local.hosted_environments

  # No resource-level permissions exist for these actions: AWS accepts only "*".
  statement {
    sid = "NoResourceLevelPermissions"
    actions = [
      "ecr:GetAuthorizationToken",
      "ecs:DescribeTaskDefinition",
      "ecs:ListTaskDefinitions",
      "ecs:RegisterTaskDefinition",
    ]
    resources = ["*"]
  }

  # Every deploy checks that the image exists; only the roles in image_push_environments push new images.
  statement {
    sid = "ReadImages"
    actions = [
      "ecr:BatchGetImage",
      "ecr:DescribeImages",
      "ecr:DescribeRepositories",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [module.ecr.repository_arn]
  }

  # A deploy tags the image it runs <environment>-<sha> (the manifest put again under a second tag), which keeps it
  # from expiring; without layer uploads, no new image can come from here.
  statement {
    sid       = "TagDeployedImage"
    actions   = ["ecr:BatchGetImage", "ecr:PutImage"]
    resources = [module.ecr.repository_arn]
  }

  # The deploy history: the SHA running now, its earlier values, and the new one once a deploy finished.
  statement {
    sid       = "DeployHistory"
    actions   = ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:PutParameter"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${each.value.deployed_sha_parameter}"]
  }

  # A failed rollout names the deployment alarms that are in ALARM.
  statement {
    sid       = "ExplainFailedRollouts"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:*"]
  }

  dynamic "statement" {
    for_each = contains(var.image_push_environments, each.key) ? [module.ecr.repository_arn] : []

    content {
      sid = "PushImage"
      actions = [
        "ecr:BatchCheckLayerAvailability",
        "ecr:CompleteLayerUpload",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
      ]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "DeployServices"
    actions   = ["ecs:DescribeServices", "ecs:UpdateService"]
    resources = [for name in values(each.value.services) : "${local.ecs_arn}:service/${each.value.cluster}/${name}"]
  }

  statement {
    sid       = "RunOneOffTasks"
    actions   = ["ecs:RunTask"]
    resources = [for family in values(each.value.one_off_tasks) : "${local.ecs_arn}:task-definition/${family}:*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = ["${local.ecs_arn}:cluster/${each.value.cluster}"]
    }
  }

  statement {
    sid       = "WatchOneOffTasks"
    actions   = ["ecs:DescribeTasks"]
    resources = ["${local.ecs_arn}:task/${each.value.cluster}/*"]
  }

  statement {
    sid       = "ReadOneOffTaskLogs"
    actions   = ["logs:GetLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/ecs/${each.value.cluster}:log-stream:*"]
  }

  # The roles modules/iam creates under the same deploy.json names (worker_task_role only with a Celery worker).
  statement {
    sid     = "PassTaskRoles"
    actions = ["iam:PassRole"]
    resources = [
      for role in compact([each.value.execution_role, each.value.task_role, lookup(each.value, "worker_task_role", ""), each.value.one_off_task_role]) :
      "arn:${local.partition}:iam::${local.account_id}:role/${role}"
    ]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  # Tags (default_tags of the environments) ride along when CI registers a revision or runs a task.
  statement {
    sid     = "TagOnCreate"
    actions = ["ecs:TagResource"]
    resources = concat(
      [for name in values(merge(each.value.services, each.value.one_off_tasks)) : "${local.ecs_arn}:task-definition/${name}:*"],
      ["${local.ecs_arn}:task/${each.value.cluster}/*"],
    )

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition", "RunTask"]
    }
  }

  # Lambda consumers (deploy.json functions, when the project has them) run the same image.
  dynamic "statement" {
    for_each = length(lookup(each.value, "functions", {})) > 0 ? [values(lookup(each.value, "functions", {}))] : []

    content {
      sid       = "DeployFunctions"
      actions   = ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode"]
      resources = [for name in statement.value : "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${name}"]
    }
  }

  statement {
    sid       = "DecryptImageLayers"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role" "deploy" {
  for_each = local.hosted_environments

  name               = each.value.deploy_role
  description        = "GitHub Actions deploys of ${local.deploy.github_repository} to ${each.key}"
  assume_role_policy = data.aws_iam_policy_document.github_assume["deploy-${each.key}"].json
  # The deploy job may run 90 minutes (a migration may wait 60 of them); sessions must outlast it.
  max_session_duration = 7200
}

resource "aws_iam_role_policy" "deploy" {
  for_each = local.hosted_environments

  name   = "deploy"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy[each.key].json
}
