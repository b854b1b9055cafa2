"""Local development for the Lambda consumer: long-polls the queue and feeds the Lambda handler SQS events."""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ... import sqs

logger = logging.getLogger(__name__)


def as_event(messages, queue_arn, region):
    """The event Lambda's SQS event source mapping sends for MESSAGES."""
    records = [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        for message in messages
    ]
    return {"Records": records}


class Command(BaseCommand):
    help = "Run queued tasks locally through the Lambda handler, as Lambda's SQS event source mapping does."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=10)
        parser.add_argument("--wait", type=int, default=20, help="long-poll seconds per receive")
        parser.add_argument("--exit-when-empty", action="store_true", help="stop after a receive finds nothing")

    def handle(self, *args, batch_size, wait, exit_when_empty, **options):
        if not settings.TASKS_QUEUE_URL:
            raise CommandError("TASKS_QUEUE_URL is not set: point it at the queue to poll.")
        from ...handler import handler  # sets Django up only when run, like the function's cold start

        client = sqs.client()
        queue_url = settings.TASKS_QUEUE_URL
        queue_arn = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.stdout.write(f"polling {queue_url}")
        while True:
            messages = client.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=batch_size,
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                if exit_when_empty:
                    return
                continue
            result = handler(as_event(messages, queue_arn, client.meta.region_name), None)
            failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                client.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
                )
            self.stdout.write(f"{len(done)} done, {len(failed)} failed")
