variable "name" {
  description = "Name of the task queue; its dead-letter queue is <name>-dlq."
  type        = string
}

variable "consumer_timeout_seconds" {
  description = "The longest one message may take to process (the Lambda function's timeout, or Celery's task time limit). The visibility timeout is six times this, as AWS advises for Lambda."
  type        = number

  validation {
    condition     = var.consumer_timeout_seconds >= 1 && var.consumer_timeout_seconds <= 7200
    error_message = "consumer_timeout_seconds must be between 1 and 7200, so that six times it fits SQS's 12-hour visibility limit."
  }
}

variable "max_receive_count" {
  description = "Receives before SQS moves a message that keeps failing to the dead-letter queue."
  type        = number
  default     = 5
}

variable "message_retention_seconds" {
  description = "How long an unprocessed message is kept on the queue."
  type        = number
  default     = 345600
}

variable "dead_letter_retention_seconds" {
  description = "How long a dead letter is kept for inspection and redrive (SQS's maximum, 14 days)."
  type        = number
  default     = 1209600
}

variable "kms_key_arn" {
  description = "Customer managed KMS key that encrypts both queues."
  type        = string
}
