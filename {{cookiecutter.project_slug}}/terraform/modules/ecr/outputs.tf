output "repository_name" {
  description = "The repository's name."
  value       = aws_ecr_repository.this.name
}

output "repository_arn" {
  description = "The repository's ARN, for scoping push and pull permissions."
  value       = aws_ecr_repository.this.arn
}

output "repository_url" {
  description = "The registry URL images are pushed to and pulled from (without a tag)."
  value       = aws_ecr_repository.this.repository_url
}
