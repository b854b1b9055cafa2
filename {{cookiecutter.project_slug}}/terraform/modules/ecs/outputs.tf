output "cluster_name" {
  description = "The cluster's name."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "The cluster's ARN."
  value       = aws_ecs_cluster.this.arn
}

output "service_names" {
  description = "role => ECS service name."
  value       = { for role, service in aws_ecs_service.this : role => service.name }
}

output "task_definition_families" {
  description = "role => task definition family, for services and one-off tasks."
  value       = { for role, task in aws_ecs_task_definition.this : role => task.family }
}

output "security_group_id" {
  description = "Security group of the tasks; CI's one-off tasks use it too."
  value       = aws_security_group.this.id
}

output "log_group_name" {
  description = "CloudWatch log group of every container."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the container log group."
  value       = aws_cloudwatch_log_group.this.arn
}
