"""The Lambda consumer in-process, over moto's mock SQS: the backend's messages through the handler."""

import json

import boto3
import pytest
from django.tasks import task_backends
from moto import mock_aws

from ...notes.models import Note
from ..backend_lambda import QueueBackend
from ..handler import backoff_seconds, handler
from ..management.commands.poll_tasks import as_event
from .tasks import make_note, make_note_then_fail


@pytest.fixture
def queues(settings, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        dlq = client.create_queue(QueueName="tasks-dlq")["QueueUrl"]
        queue = client.create_queue(QueueName="tasks")["QueueUrl"]
        settings.TASKS_QUEUE_URL, settings.TASKS_DEAD_LETTER_QUEUE_URL = queue, dlq
        task_backends["default"] = QueueBackend("default", {"OPTIONS": {"QUEUE_URL": queue}})
        yield client, queue, dlq
        del task_backends["default"]


def receive(client, url):
    return client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]).get(
        "Messages", []
    )


def event(client, queue):
    arn = client.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return as_event(receive(client, queue), arn, "us-east-1")


def test_the_message_body_is_the_envelope(queues, transactional_db):
    client, queue, _ = queues
    result = make_note.enqueue("sent")
    [message] = receive(client, queue)
    assert json.loads(message["Body"])["task_id"] == result.id


def test_only_the_failing_record_is_reported(queues, transactional_db):
    client, queue, _ = queues
    make_note.enqueue("good")
    make_note_then_fail.enqueue("bad")
    sqs_event = event(client, queue)
    bad = next(r["messageId"] for r in sqs_event["Records"] if "then_fail" in r["body"])
    assert handler(sqs_event, None) == {"batchItemFailures": [{"itemIdentifier": bad}]}
    assert list(Note.objects.values_list("title", flat=True)) == ["good"]


def test_an_unknown_task_goes_to_the_dead_letter_queue_at_once(queues, transactional_db, caplog):
    client, queue, dlq = queues
    body = json.dumps({**json.loads(make_note_body(client, queue)), "task": "gone.module.task"})
    client.send_message(QueueUrl=queue, MessageBody=body)
    assert handler(event(client, queue), None) == {"batchItemFailures": []}
    assert [m["Body"] for m in receive(client, dlq)] == [body]
    assert "goes to the dead-letter queue" in caplog.text


def make_note_body(client, queue):
    make_note.enqueue("template")
    [message] = receive(client, queue)
    client.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return message["Body"]


def test_backoff_doubles_per_receive_and_is_capped(settings):
    settings.TASKS_BACKOFF_BASE_SECONDS, settings.TASKS_BACKOFF_MAX_SECONDS = 10, 60
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
