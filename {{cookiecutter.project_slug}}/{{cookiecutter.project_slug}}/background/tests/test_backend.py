"""The queue backend's common part: what it accepts, the envelope it builds, and when it sends."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.tasks import task_backends
from django.tasks.exceptions import InvalidTask
from django.utils import timezone

from ...observability import context
from ..backend import QueueBackendBase
from ..envelope import MAX_BYTES, Envelope, EnvelopeError
from .tasks import make_note


class RecordingBackend(QueueBackendBase):
    """The shared backend logic with a transport that keeps what it was given instead of calling SQS."""

    def __init__(self, alias, params):
        super().__init__(alias, params)
        self.sent = []

    def publish(self, envelope, body, delay_seconds):
        self.sent.append((json.loads(body), delay_seconds))


@pytest.fixture
def backend():
    backend = RecordingBackend("default", {"OPTIONS": {"QUEUE_URL": "https://sqs.example/1/tasks"}})
    task_backends["default"] = backend
    yield backend
    del task_backends["default"]


def test_the_envelope_has_every_documented_field(backend, transactional_db):
    result = make_note.enqueue("hello", extra=1)
    [(body, delay)] = backend.sent
    assert set(body) == {"version", "task", "args", "kwargs", "task_id", "enqueued_at", "correlation_id"}
    assert body["version"] == 1
    assert body["task"] == f"{make_note.func.__module__}.make_note"
    assert (body["args"], body["kwargs"], body["task_id"]) == (["hello"], {"extra": 1}, result.id)
    assert delay == 0


def test_nothing_is_sent_before_the_transaction_commits(backend, transactional_db):
    with transaction.atomic():
        make_note.enqueue("later")
        assert backend.sent == []
    assert len(backend.sent) == 1


def test_a_rolled_back_transaction_sends_nothing(backend, transactional_db):
    def enqueue_then_fail():
        with transaction.atomic():
            make_note.enqueue("never")
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert backend.sent == []


def test_run_after_becomes_the_delay(backend, transactional_db):
    make_note.using(run_after=timezone.now() + timedelta(minutes=5)).enqueue("soon")
    assert 295 <= backend.sent[0][1] <= 300


def test_run_after_beyond_fifteen_minutes_is_refused(backend):
    with pytest.raises(InvalidTask, match="SQS delays at most 900 s"):
        make_note.using(run_after=timezone.now() + timedelta(minutes=16)).enqueue("too late")


def test_priorities_are_refused(backend):
    with pytest.raises(InvalidTask, match="priority"):
        make_note.using(priority=10).enqueue("urgent")


def test_arguments_must_be_json(backend):
    with pytest.raises(TypeError, match="JSON-serialisable"):
        make_note.enqueue(object())


def test_a_payload_over_the_sqs_limit_is_refused_clearly(backend):
    with pytest.raises(ValueError, match=f"over SQS's {MAX_BYTES}"):
        make_note.enqueue("x" * MAX_BYTES)


def test_a_send_failure_raises_in_the_caller(backend, transactional_db, caplog):
    def fail(*args):
        raise ConnectionError("queue unreachable")

    backend.publish = fail
    with pytest.raises(ConnectionError):
        make_note.enqueue("lost?")
    assert "could not enqueue task" in caplog.text


def test_envelopes_of_another_version_are_refused():
    with pytest.raises(EnvelopeError, match="version 1"):
        Envelope.from_json('{"version": 2}')
    with pytest.raises(EnvelopeError, match="not JSON"):
        Envelope.from_json("nope")


def test_the_envelope_carries_the_request_id_it_was_enqueued_under(backend, transactional_db):
    with context.bind("req-42"):
        make_note.enqueue("traced")
    make_note.enqueue("untraced")
    [(traced, _), (untraced, _)] = backend.sent
    assert traced["correlation_id"] == "req-42"
    assert untraced["correlation_id"] not in ("", "req-42")
