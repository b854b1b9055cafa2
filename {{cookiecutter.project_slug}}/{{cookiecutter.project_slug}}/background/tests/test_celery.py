"""The Celery consumer's configuration and its generic task, in-process over moto's mock SQS."""

import base64
import json

import boto3
import pytest
from django.tasks import task_backends
from moto import mock_aws

from ...notes.models import Note
from ..backend_celery import QueueBackend
from ..celery_app import RUN_TASK, app, backoff_policy, run
from .tasks import make_note


def test_failures_stay_on_the_queue_for_sqs_to_retry_and_dead_letter():
    conf = app.conf
    assert conf.task_acks_late
    assert conf.task_reject_on_worker_lost
    assert conf.task_acks_on_failure_or_timeout is False
    assert conf.worker_prefetch_multiplier == 1
    assert conf.result_backend is None
    [queue] = conf.broker_transport_options["predefined_queues"].values()
    assert queue["backoff_tasks"] == [RUN_TASK]
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]


def test_backoff_doubles_per_receive_and_is_capped(settings):
    settings.TASKS_BACKOFF_BASE_SECONDS, settings.TASKS_BACKOFF_MAX_SECONDS = 10, 60
    policy = backoff_policy()
    assert [policy[n] for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


@pytest.fixture
def queue(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        url = client.create_queue(QueueName="tasks")["QueueUrl"]
        [predefined] = app.conf.broker_transport_options["predefined_queues"].values()
        monkeypatch.setitem(predefined, "url", url)
        task_backends["default"] = QueueBackend("default", {"OPTIONS": {"QUEUE_URL": url}})
        yield client, url
        del task_backends["default"]
        app.pool.force_close_all()


def test_the_envelope_travels_as_the_generic_tasks_argument_and_runs(queue, transactional_db):
    client, url = queue
    result = make_note.enqueue("via celery")
    [message] = client.receive_message(QueueUrl=url).get("Messages", [])
    celery_message = json.loads(base64.b64decode(message["Body"]))
    assert celery_message["headers"]["task"] == RUN_TASK
    args, _, _ = json.loads(base64.b64decode(celery_message["body"]))
    assert json.loads(args[0])["task_id"] == result.id
    run.apply(args=args).get()
    assert Note.objects.filter(title="via celery").count() == 1
