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
  # Every role GitHub Actions assumes => the contexts it trusts. An environment's roles trust only that
  # environment's GitHub environment (plus its extra contexts); pull requests get only the read-only plan role.
  role_contexts = merge(
    { for environment in keys(local.hosted_environments) : "deploy-${environment}" => concat(["environment:${environment}"], lookup(var.deploy_role_extra_contexts, environment, [])) },
    { for environment in keys(local.hosted_environments) : "terraform-${environment}" => concat(["environment:${environment}"], lookup(var.terraform_role_extra_contexts, environment, [])) },
    { terraform-plan = ["pull_request"] },
  )
  github_role_subjects = { for role, contexts in local.role_contexts : role => [for pair in setproduct(local.github_repository_subjects, contexts) : "${pair[0]}:${pair[1]}"] }
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
