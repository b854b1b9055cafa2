output "id" {
  description = "Bucket name."
  value       = aws_s3_bucket.this.id
}

output "arn" {
  description = "Bucket ARN."
  value       = aws_s3_bucket.this.arn
}

output "policy_id" {
  description = "The bucket policy, for callers whose writers must wait until it allows them (load balancer access logs)."
  value       = aws_s3_bucket_policy.this.id
}
