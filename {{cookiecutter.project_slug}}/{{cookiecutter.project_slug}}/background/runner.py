"""Runs one task envelope, at most once per task id: the marker row commits with the task's own writes."""

import logging

from django.db import IntegrityError, transaction
from django.tasks import Task
from django.tasks.base import TaskContext, TaskResult, TaskResultStatus
from django.utils import timezone
from django.utils.module_loading import import_string

from ..observability import context, metrics
from .envelope import Envelope
from .models import TaskRun

logger = logging.getLogger(__name__)

RAN = "ran"
DUPLICATE = "duplicate"


class UnknownTask(LookupError):
    """The envelope names something that is not a task in this code: retrying cannot help."""


def resolve(path):
    try:
        found = import_string(path)
    except ImportError as error:
        raise UnknownTask(f"task {path!r} does not resolve ({error}); was it renamed or removed?") from None
    if not isinstance(found, Task):
        raise UnknownTask(f"{path!r} is not a task: decorate it with @task")
    return found


def run(envelope: Envelope, worker_id="", attempt=1):
    """Run the task named by ENVELOPE unless a run with its id has committed; returns RAN or DUPLICATE.

    An exception from the task rolls back its writes and the marker together, and is raised for a retry.
    """
    task = resolve(envelope.task)
    # The request's id in every log line of the task; its business metrics in one record when it ends.
    with context.bind(envelope.correlation_id, route_=envelope.task), metrics.scope(TaskId=envelope.task_id):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    # Blocks on a concurrent run of the same id until it commits or rolls back.
                    TaskRun.objects.create(task_id=envelope.task_id, task_path=envelope.task)
            except IntegrityError:
                logger.info("task %s (id %s) already ran; skipping the redelivery", envelope.task, envelope.task_id)
                return DUPLICATE
            if task.takes_context:
                task.call(_context(task, envelope, worker_id, attempt), *envelope.args, **envelope.kwargs)
            else:
                task.call(*envelope.args, **envelope.kwargs)
        logger.info("task %s (id %s) ran", envelope.task, envelope.task_id)
    return RAN


def _context(task, envelope, worker_id, attempt):
    now = timezone.now()
    result = TaskResult(
        task=task,
        id=envelope.task_id,
        status=TaskResultStatus.RUNNING,
        enqueued_at=None,
        started_at=now,
        last_attempted_at=now,
        finished_at=None,
        args=envelope.args,
        kwargs=envelope.kwargs,
        backend=task.backend,
        errors=[],
        worker_ids=[worker_id] * attempt,
    )
    return TaskContext(task_result=result)
