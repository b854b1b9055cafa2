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
    resources = [module.state_bucket.arn, "${module.state_bucket.arn}/*"]
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
    resources = [module.state_bucket.arn, "${module.state_bucket.arn}/*"]
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
