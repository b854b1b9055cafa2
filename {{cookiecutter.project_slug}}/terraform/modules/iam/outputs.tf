output "execution_role_arn" {
  description = "Role ECS uses to start tasks."
  value       = aws_iam_role.execution.arn
}

output "execution_role_name" {
  description = "Name of the execution role."
  value       = aws_iam_role.execution.name
}

output "task_role_arn" {
  description = "Role the application runs as."
  value       = aws_iam_role.task.arn
}

output "task_role_name" {
  description = "Name of the task role."
  value       = aws_iam_role.task.name
}

output "worker_task_role_arn" {
  description = "Role the background-task worker runs as, or null without one."
  value       = one(aws_iam_role.worker_task[*].arn)
}

output "worker_task_role_name" {
  description = "Name of the worker task role, or null without one."
  value       = one(aws_iam_role.worker_task[*].name)
}

output "one_off_task_role_arn" {
  description = "Role the one-off tasks (migrate) run as."
  value       = aws_iam_role.one_off_task.arn
}

output "one_off_task_role_name" {
  description = "Name of the one-off task role."
  value       = aws_iam_role.one_off_task.name
}

output "database_connect_arn" {
  description = "The app's database user (rds-db:connect resource), for other roles that run the app."
  value       = local.database_connect_arn
}
