"""The backend for the Lambda consumer: the envelope is the SQS message body, as the function receives it."""

from . import sqs
from .backend import QueueBackendBase


class QueueBackend(QueueBackendBase):
    def publish(self, envelope, body, delay_seconds):
        sqs.client().send_message(QueueUrl=self.queue_url, MessageBody=body, DelaySeconds=delay_seconds)
