output "state_bucket" {
  description = "S3 bucket of every Terraform state (the environments' backend.tf)."
  value       = module.state_bucket.id
}

output "ecr_repository_url" {
  description = "Registry URL CI pushes <git sha> tags to."
  value       = module.ecr.repository_url
}

output "deploy_role_arns" {
  description = "environment => role GitHub Actions assumes to deploy (aws-actions/configure-aws-credentials role-to-assume)."
  value       = { for environment, role in aws_iam_role.deploy : environment => role.arn }
}

output "terraform_role_arns" {
  description = "environment => role GitHub Actions assumes to apply terraform, from that protected GitHub environment only."
  value       = { for environment, role in aws_iam_role.terraform : environment => role.arn }
}

output "terraform_plan_role_arn" {
  description = "Read-only role GitHub Actions assumes to plan terraform on pull requests."
  value       = aws_iam_role.terraform_plan.arn
}

output "github_oidc_provider_arn" {
  description = "The account's GitHub Actions OIDC provider."
  value       = local.oidc_arn
}
