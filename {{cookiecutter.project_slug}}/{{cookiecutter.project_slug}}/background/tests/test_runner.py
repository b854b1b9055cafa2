"""Running an envelope: once per task id, with the marker committed together with the task's writes."""

import json
import logging
import uuid

import pytest

from ...notes.models import Note
from ...observability import context, emf
from ..envelope import Envelope
from ..models import TaskRun
from ..runner import DUPLICATE, RAN, UnknownTask, run
from .tasks import make_note, make_note_then_fail, note_the_request_id


def envelope(task, *args):
    return Envelope(
        task=task if isinstance(task, str) else task.module_path,
        args=list(args),
        kwargs={},
        task_id=uuid.uuid4().hex,
        enqueued_at="2026-01-01T00:00:00+00:00",
        correlation_id="c1",
    )


def test_a_redelivered_envelope_runs_once(transactional_db):
    message = envelope(make_note, "once")
    assert run(message) == RAN
    assert run(message) == DUPLICATE
    assert Note.objects.filter(title="once").count() == 1
    assert TaskRun.objects.filter(task_id=message.task_id).exists()


def test_a_failed_run_rolls_back_its_writes_and_its_marker(transactional_db):
    message = envelope(make_note_then_fail, "half")
    with pytest.raises(RuntimeError):
        run(message)
    assert not Note.objects.filter(title="half").exists()
    assert not TaskRun.objects.filter(task_id=message.task_id).exists()


def test_unknown_task_paths_are_refused_with_the_path(db):
    with pytest.raises(UnknownTask, match=r"no_such_module\.task"):
        run(envelope("no_such_module.task"))
    with pytest.raises(UnknownTask, match="not a task"):
        run(envelope(f"{make_note.func.__module__}.not_a_task"))


@pytest.fixture
def metric_records():
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(json.loads(record.getMessage()))
    emf.emf_logger.addHandler(handler)
    yield records
    emf.emf_logger.removeHandler(handler)


def test_a_task_runs_under_the_request_id_it_was_enqueued_with_and_writes_its_metrics(transactional_db, metric_records):
    message = envelope(note_the_request_id, "traced")
    assert run(message) == RAN
    assert Note.objects.filter(title="traced c1").exists()
    [record] = metric_records
    assert (record["NotesExported"], record["TaskId"]) == (1, message.task_id)
    assert context.request_id.get() is None
