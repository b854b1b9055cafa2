"""Background tasks: Django's Tasks API (`django.tasks`) on an SQS queue.

Application code only ever uses `@task` and `.enqueue()`. This package holds what sits behind them: the message
envelope, the backend that publishes it after the surrounding transaction commits, and the runner the consumer
calls for each message, which records every committed run so a redelivered message does not run twice.
"""
