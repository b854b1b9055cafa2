# The background-task queue and its dead-letter queue. SQS moves a message there, body intact, after
# max_receive_count receives; the dead-letter queue only accepts messages redriven from this queue.
locals {
  # SQS's largest message; the app refuses bigger envelopes at enqueue time (background/envelope.py MAX_BYTES).
  max_message_size = 262144
}

resource "aws_sqs_queue" "dead_letter" {
  name                              = "${var.name}-dlq"
  message_retention_seconds         = var.dead_letter_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_sqs_queue" "this" {
  name                              = var.name
  visibility_timeout_seconds        = 6 * var.consumer_timeout_seconds
  message_retention_seconds         = var.message_retention_seconds
  max_message_size                  = local.max_message_size
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this.arn]
  })
}
