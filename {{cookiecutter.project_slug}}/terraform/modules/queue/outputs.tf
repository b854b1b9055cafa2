output "url" {
  description = "URL of the task queue (TASKS_QUEUE_URL)."
  value       = aws_sqs_queue.this.id
}

output "arn" {
  description = "ARN of the task queue."
  value       = aws_sqs_queue.this.arn
}

output "name" {
  description = "Name of the task queue, for CloudWatch metrics."
  value       = aws_sqs_queue.this.name
}

output "dead_letter_url" {
  description = "URL of the dead-letter queue (TASKS_DEAD_LETTER_QUEUE_URL)."
  value       = aws_sqs_queue.dead_letter.id
}

output "dead_letter_name" {
  description = "Name of the dead-letter queue, for CloudWatch metrics."
  value       = aws_sqs_queue.dead_letter.name
}

output "dead_letter_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "visibility_timeout_seconds" {
  description = "The queue's visibility timeout (TASKS_VISIBILITY_TIMEOUT_SECONDS for Celery)."
  value       = aws_sqs_queue.this.visibility_timeout_seconds
}
