"""The Lambda function: runs each SQS record's task and reports the records that failed.

Lambda deletes the batch's other messages. A failed message is made invisible for an exponential backoff
(base x 2^(receive count - 1), capped) and comes back until SQS moves it to the dead-letter queue after the
queue's maxReceiveCount. A message naming no known task goes to the dead-letter queue at once.
"""

import logging
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()  # once per cold start, not per invocation

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import close_old_connections  # noqa: E402

from . import runner, sqs  # noqa: E402
from .envelope import Envelope, EnvelopeError  # noqa: E402

logger = logging.getLogger(__name__)
# A batch where every record failed is reported like any other, rather than failing the whole invocation.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def backoff_seconds(receive_count):
    base, cap = settings.TASKS_BACKOFF_BASE_SECONDS, settings.TASKS_BACKOFF_MAX_SECONDS
    return min(cap, base * 2 ** max(0, receive_count - 1))


def dead_letter(record, reason):
    logger.error("message %s goes to the dead-letter queue: %s", record.message_id, reason)
    sqs.client().send_message(QueueUrl=settings.TASKS_DEAD_LETTER_QUEUE_URL, MessageBody=record.body)


def process(record):
    receive_count = int(record.attributes.approximate_receive_count)
    try:
        envelope = Envelope.from_json(record.body)
        runner.run(envelope, worker_id=os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""), attempt=receive_count)
    except (EnvelopeError, runner.UnknownTask) as error:
        dead_letter(record, error)  # then reported as done, so Lambda deletes it from the queue
    except Exception:
        delay = backoff_seconds(receive_count)
        logger.exception("message %s failed (receive %d); retrying in %d s", record.message_id, receive_count, delay)
        sqs.client().change_message_visibility(
            QueueUrl=settings.TASKS_QUEUE_URL, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
        )
        raise


def handler(event, context):
    close_old_connections()  # a connection left from an earlier invocation may have been closed by the server
    try:
        return process_partial_response(event=event, record_handler=process, processor=processor, context=context)
    finally:
        close_old_connections()
