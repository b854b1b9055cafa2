"""Create the local task queue and its dead-letter queue on the compose stack's SQS server (moto)."""

import json
import os

import boto3

MAX_RECEIVE_COUNT = 5

client = boto3.client("sqs")
dlq = client.create_queue(QueueName="tasks-dlq")["QueueUrl"]
dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
queue = client.create_queue(
    QueueName="tasks",
    Attributes={
        "RedrivePolicy": json.dumps(redrive),
        "VisibilityTimeout": os.environ.get("TASKS_VISIBILITY_TIMEOUT_SECONDS", "1800"),
    },
)["QueueUrl"]
print(f"queue {queue}, dead letters to {dlq}")
