# Account-wide pieces every environment and CI rely on: the state bucket, the image repository, GitHub's OIDC
# provider and the roles CI assumes. Names come from deploy.json, which the workflows read too.
locals {
  deploy       = jsondecode(file("${path.root}/../../deploy.json"))
  project      = local.deploy.project
  state_bucket = coalesce(var.state_bucket_name, "${local.project}-terraform-state")
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  region       = local.deploy.aws_region
  github_owner = split("/", local.deploy.github_repository)[0]
  github_name  = split("/", local.deploy.github_repository)[1]
  oidc_host    = "token.actions.githubusercontent.com"
  oidc_arn     = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}

provider "aws" {
  region = local.region

  default_tags {
    tags = {
      Project   = local.project
      ManagedBy = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

resource "aws_kms_key" "this" {
  description             = "${local.project}: Terraform state and container images"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The account must administer its key; IAM policies then decide who uses it.
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.project}-bootstrap"
  target_key_id = aws_kms_key.this.key_id
}

# State bucket: versioned (state history), KMS-encrypted, private, TLS-only. Locking uses S3 lock files.

resource "aws_s3_bucket" "state" {
  bucket = local.state_bucket

  lifecycle {
    prevent_destroy = true
  }
  #checkov:skip=CKV_AWS_18:Server access logs would need a second bucket per project; CloudTrail records who reads and writes state.
  #checkov:skip=CKV_AWS_144:State is small and versioned; a replica in another region is a per-organisation decision.
  #checkov:skip=CKV2_AWS_62:Nothing consumes state-change events.
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "old-state-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 90
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "state" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}

module "ecr" {
  source = "../modules/ecr"

  name        = local.deploy.ecr_repository
  kms_key_arn = aws_kms_key.this.arn
}

# GitHub Actions OIDC: CI gets short-lived credentials, no access keys anywhere.

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 0 : 1

  url = "https://${local.oidc_host}"
}

locals {
  # GitHub's subject is repo:<owner>/<repo>:<context>, or, with immutable subject claims (default for repositories
  # created or renamed since July 2026), repo:<owner>@<owner id>/<repo>@<repo id>:<context>. Both name this one
  # repository only: "*" stands for the numeric ids, and owner and repository names cannot contain "@" or "/".
  github_repository_subjects = [
    "repo:${local.github_owner}/${local.github_name}",
    "repo:${local.github_owner}@*/${local.github_name}@*",
  ]
  deploy_contexts = {
    for environment in keys(local.deploy.environments) :
    environment => concat(["environment:${environment}"], lookup(var.deploy_role_extra_contexts, environment, []))
  }
  github_subjects = {
    for environment, contexts in local.deploy_contexts :
    environment => [for pair in setproduct(local.github_repository_subjects, contexts) : "${pair[0]}:${pair[1]}"]
  }
  terraform_contexts = concat(
    var.terraform_role_contexts,
    [for environment in keys(local.deploy.environments) : "environment:${environment}"],
  )
  # Every role GitHub Actions assumes => the subjects it trusts. Pull requests get only the read-only plan role.
  github_role_subjects = merge(
    { for environment, subjects in local.github_subjects : "deploy-${environment}" => subjects },
    {
      terraform      = [for pair in setproduct(local.github_repository_subjects, local.terraform_contexts) : "${pair[0]}:${pair[1]}"]
      terraform-plan = [for form in local.github_repository_subjects : "${form}:pull_request"]
    },
  )
}

# One trust policy per role: GitHub's OIDC tokens for this repository, in the contexts that role accepts.
data "aws_iam_policy_document" "github_assume" {
  for_each = local.github_role_subjects

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "${local.oidc_host}:sub"
      values   = each.value
    }
  }
}

locals {
  ecs_arn = "arn:${local.partition}:ecs:${local.region}:${local.account_id}"
}

# The CI deploy role of one environment: check (staging: push) the image, register the task definitions, update the services,
# run the one-off tasks, and pass exactly this environment's two task roles to ECS.
data "aws_iam_policy_document" "deploy" {
  for_each = local.deploy.environments

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

  # Role names follow modules/iam: <cluster>-execution and <cluster>-task.
  statement {
    sid     = "PassTaskRoles"
    actions = ["iam:PassRole"]
    resources = [
      "arn:${local.partition}:iam::${local.account_id}:role/${each.value.cluster}-execution",
      "arn:${local.partition}:iam::${local.account_id}:role/${each.value.cluster}-task",
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
  for_each = local.deploy.environments

  name                 = each.value.deploy_role
  description          = "GitHub Actions deploys of ${local.deploy.github_repository} to ${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.github_assume["deploy-${each.key}"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "deploy" {
  for_each = local.deploy.environments

  name   = "deploy"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy[each.key].json
}

# Two terraform roles. "terraform" (apply) changes the environments, only from protected GitHub environments: it can change
# almost anything, which the deploy roles must not. "terraform-plan" serves pull requests, whose code anyone with push
# access writes, so it can only read.
resource "aws_iam_role" "terraform" {
  name                 = local.deploy.terraform_role
  description          = "GitHub Actions terraform apply of ${local.deploy.github_repository}"
  assume_role_policy   = data.aws_iam_policy_document.github_assume["terraform"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "terraform" {
  for_each = toset(var.terraform_role_managed_policy_arns)

  role       = aws_iam_role.terraform.name
  policy_arn = each.value
}

# PowerUserAccess excludes IAM; the environments create roles, all named after the project.
data "aws_iam_policy_document" "terraform_iam" {
  statement {
    sid = "ProjectRoles"
    actions = [
      "iam:AttachRolePolicy",
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRolePolicies",
      "iam:PassRole",
      "iam:PutRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
    ]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${local.project}-*"]
  }

  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"]
  }

  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
  }
}

resource "aws_iam_role_policy" "terraform" {
  name   = "project-iam-and-state"
  role   = aws_iam_role.terraform.id
  policy = data.aws_iam_policy_document.terraform_iam.json
}

resource "aws_iam_role" "terraform_plan" {
  name                 = local.deploy.terraform_plan_role
  description          = "GitHub Actions terraform plan (read only) of ${local.deploy.github_repository} pull requests"
  assume_role_policy   = data.aws_iam_policy_document.github_assume["terraform-plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "terraform_plan" {
  role       = aws_iam_role.terraform_plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

# ReadOnlyAccess reads no secret values; refreshing the project's secret versions and reading the state needs them.
# Plans run with -lock=false, so nothing here writes.
data "aws_iam_policy_document" "terraform_plan" {
  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket", "s3:GetObject"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
  }

  statement {
    sid       = "ProjectSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${local.project}-*"]
  }

  statement {
    sid       = "ProjectKeys"
    actions   = ["kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"]

    condition {
      test     = "ForAnyValue:StringLike"
      variable = "kms:ResourceAliases"
      values   = ["alias/${local.project}-*"]
    }
  }

  statement {
    sid       = "StateKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "terraform_plan" {
  name   = "state-and-project-secrets"
  role   = aws_iam_role.terraform_plan.id
  policy = data.aws_iam_policy_document.terraform_plan.json
}
