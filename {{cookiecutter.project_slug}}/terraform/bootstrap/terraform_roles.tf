# Terraform roles. "terraform" (apply), one per environment, changes that environment, only from its protected
# GitHub environment: it can change almost anything, which the deploy roles must not. "terraform-plan" serves pull
# requests, whose code anyone with push access writes, so it can only read.
resource "aws_iam_role" "terraform" {
  for_each = local.hosted_environments

  name                 = each.value.terraform_role
  description          = "GitHub Actions terraform apply of ${local.deploy.github_repository} to ${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.github_assume["terraform-${each.key}"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "terraform" {
  for_each = { for pair in setproduct(keys(local.hosted_environments), var.terraform_role_managed_policy_arns) : "${pair[0]} ${pair[1]}" => { environment = pair[0], policy_arn = pair[1] } }

  role       = aws_iam_role.terraform[each.value.environment].name
  policy_arn = each.value.policy_arn
}

locals {
  permissions_boundary_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${local.deploy.permissions_boundary}"
  # The roles CI assumes: no apply role may change them, itself included.
  ci_role_arns = concat(
    [for names in values(local.hosted_environments) : "arn:${local.partition}:iam::${local.account_id}:role/${names.deploy_role}"],
    [for names in values(local.hosted_environments) : "arn:${local.partition}:iam::${local.account_id}:role/${names.terraform_role}"],
    ["arn:${local.partition}:iam::${local.account_id}:role/${local.deploy.terraform_plan_role}"],
  )
}

# The most any role an apply role creates may ever do: the workloads' services, and no IAM, organization or
# account changes, so no created role can grant itself or anyone more.
data "aws_iam_policy_document" "workload_boundary" {
  statement {
    sid         = "WorkloadsOnly"
    not_actions = ["iam:*", "organizations:*", "account:*"]
    resources   = ["*"]
  }
  #checkov:skip=CKV_AWS_107:A permissions boundary grants nothing; it caps the bounded roles, whose own policies name their resources.
  #checkov:skip=CKV_AWS_108:A permissions boundary grants nothing; it caps the bounded roles, whose own policies name their resources.
  #checkov:skip=CKV_AWS_109:A permissions boundary grants nothing; it caps the bounded roles, whose own policies name their resources.
  #checkov:skip=CKV_AWS_110:A permissions boundary grants nothing; it caps the bounded roles, whose own policies name their resources.
  #checkov:skip=CKV_AWS_111:A permissions boundary grants nothing; it caps the bounded roles, whose own policies name their resources.
  #checkov:skip=CKV_AWS_356:A permissions boundary grants nothing; it caps the bounded roles, whose own policies name their resources.
}

resource "aws_iam_policy" "workload_boundary" {
  name        = local.deploy.permissions_boundary
  description = "Permissions boundary of every role the terraform apply roles of ${local.project} create"
  policy      = data.aws_iam_policy_document.workload_boundary.json
  #checkov:skip=CKV_AWS_288:A permissions boundary grants nothing; it caps the roles' own policies, which name their resources.
  #checkov:skip=CKV_AWS_289:A permissions boundary grants nothing; it caps the roles' own policies, which name their resources.
  #checkov:skip=CKV_AWS_290:A permissions boundary grants nothing; it caps the roles' own policies, which name their resources.
  #checkov:skip=CKV_AWS_355:A permissions boundary grants nothing; it caps the roles' own policies, which name their resources.
  #checkov:skip=CKV_AWS_286:A permissions boundary grants nothing; it caps the roles' own policies, which name their resources.
  #checkov:skip=CKV_AWS_287:A permissions boundary grants nothing; it caps the roles' own policies, which name their resources.
}

# PowerUserAccess excludes IAM; the environments create roles, all named after the project, and only with the
# boundary on them. The CI roles (the apply roles included) and the boundary itself are out of reach.
data "aws_iam_policy_document" "terraform_iam" {
  statement {
    sid = "ReadProjectRoles"
    actions = [
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRolePolicies",
      "iam:ListRoleTags",
    ]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${local.project}-*"]
  }

  statement {
    sid = "ProjectRolesInsideTheBoundary"
    actions = [
      "iam:AttachRolePolicy",
      "iam:CreateRole",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePermissionsBoundary",
      "iam:PutRolePolicy",
    ]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${local.project}-*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.permissions_boundary_arn]
    }
  }

  # These requests carry no iam:PermissionsBoundary; the roles they reach are bounded, and the deny below keeps
  # them off the CI roles.
  statement {
    sid = "ProjectRoles"
    actions = [
      "iam:DeleteRole",
      "iam:PassRole",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${local.project}-*"]
  }

  statement {
    sid       = "ReadTheBoundary"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion"]
    resources = [local.permissions_boundary_arn]
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

  statement {
    sid    = "NotTheCiRolesNorTheBoundary"
    effect = "Deny"
    actions = [
      "iam:AttachRolePolicy",
      "iam:CreatePolicyVersion",
      "iam:CreateRole",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
      "iam:DeleteRole",
      "iam:DeleteRolePermissionsBoundary",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PassRole",
      "iam:PutRolePermissionsBoundary",
      "iam:PutRolePolicy",
      "iam:SetDefaultPolicyVersion",
      "iam:TagPolicy",
      "iam:TagRole",
      "iam:UntagPolicy",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = concat(local.ci_role_arns, [local.permissions_boundary_arn])
  }

  statement {
    sid       = "BoundariesStay"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "terraform" {
  for_each = local.hosted_environments

  name   = "project-iam-and-state"
  role   = aws_iam_role.terraform[each.key].id
  policy = data.aws_iam_policy_document.terraform_iam.json
}

# Single-account mode: the apply role of one environment may not touch what is tagged as another environment
# (the environments' default_tags), create resources tagged so, or change another environment's roles. With one
# account per environment there is no other environment here and these statements vanish.
data "aws_iam_policy_document" "terraform_environment_fence" {
  for_each = local.hosted_environments

  dynamic "statement" {
    for_each = length(local.hosted_environments) > 1 ? [each.key] : []

    content {
      sid       = "OtherEnvironmentsTaggedResources"
      effect    = "Deny"
      actions   = ["*"]
      resources = ["*"]

      condition {
        test     = "StringNotEquals"
        variable = "aws:ResourceTag/Environment"
        values   = [statement.value]
      }

      # Only where the tag is there: untagged and shared resources (state, images) stay reachable.
      condition {
        test     = "Null"
        variable = "aws:ResourceTag/Environment"
        values   = ["false"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(local.hosted_environments) > 1 ? [each.key] : []

    content {
      sid       = "OtherEnvironmentsTagsOnNewResources"
      effect    = "Deny"
      actions   = ["*"]
      resources = ["*"]

      condition {
        test     = "StringNotEquals"
        variable = "aws:RequestTag/Environment"
        values   = [statement.value]
      }

      # Only where the tag is there: untagged and shared resources (state, images) stay reachable.
      condition {
        test     = "Null"
        variable = "aws:RequestTag/Environment"
        values   = ["false"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(local.hosted_environments) > 1 ? [[for environment, names in local.hosted_environments : names.cluster if environment != each.key]] : []

    content {
      sid       = "OtherEnvironmentsRoles"
      effect    = "Deny"
      actions   = ["iam:*"]
      resources = [for cluster in statement.value : "arn:${local.partition}:iam::${local.account_id}:role/${cluster}-*"]
    }
  }
}

resource "aws_iam_role_policy" "terraform_environment_fence" {
  for_each = { for environment, names in local.hosted_environments : environment => names if length(local.hosted_environments) > 1 }

  name   = "only-${each.key}"
  role   = aws_iam_role.terraform[each.key].id
  policy = data.aws_iam_policy_document.terraform_environment_fence[each.key].json
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

# Pull-request code runs with this role, so it reads no secret value: ReadOnlyAccess has no GetSecretValue, the
# deny below keeps it so, and no secret value is in the state (write-only arguments; write-only secret versions
# refresh with ListSecretVersionIds). Plans run with -lock=false, so nothing here writes.
data "aws_iam_policy_document" "terraform_plan" {
  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket", "s3:GetObject"]
    resources = [module.state_bucket.arn, "${module.state_bucket.arn}/*"]
  }

  statement {
    sid       = "NoSecretValues"
    effect    = "Deny"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["*"]
  }

  statement {
    sid       = "StateKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "terraform_plan" {
  name   = "state"
  role   = aws_iam_role.terraform_plan.id
  policy = data.aws_iam_policy_document.terraform_plan.json
}
