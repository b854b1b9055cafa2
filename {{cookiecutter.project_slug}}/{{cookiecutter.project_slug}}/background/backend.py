"""The part of a queue backend every consumer shares: validation, the envelope, publishing after commit."""

import logging
import uuid
from abc import abstractmethod
from datetime import datetime

from django.db import transaction
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import TaskResult, TaskResultStatus
from django.tasks.exceptions import InvalidTask
from django.utils import timezone

from .envelope import Envelope, new_correlation_id

logger = logging.getLogger(__name__)

# SQS delays a message by at most 15 minutes.
MAX_DELAY_SECONDS = 900


class QueueBackendBase(BaseTaskBackend):
    """Publishes a task envelope when the surrounding transaction commits; a rolled-back one sends nothing.

    OPTIONS: QUEUE_URL (the SQS queue). Priorities are refused; run_after becomes SQS's delay, up to 15 minutes.
    """

    supports_defer = True
    supports_async_task = False
    supports_get_result = False
    supports_priority = False

    def __init__(self, alias, params):
        super().__init__(alias, params)
        self.queue_url = self.options.get("QUEUE_URL", "")
        if not self.queue_url:
            raise InvalidTask(f"TASKS[{alias!r}]['OPTIONS']['QUEUE_URL'] is empty: set TASKS_QUEUE_URL.")

    def validate_task(self, task):
        super().validate_task(task)
        if task.run_after is not None:
            self.delay_seconds(task.run_after)

    @staticmethod
    def delay_seconds(run_after):
        if run_after is None:
            return 0
        seconds = max(0, round((run_after - timezone.now()).total_seconds()))
        if seconds > MAX_DELAY_SECONDS:
            raise InvalidTask(
                f"run_after is {seconds} s away; SQS delays at most {MAX_DELAY_SECONDS} s: "
                "enqueue closer to the time, or store the job and let a schedule enqueue it"
            )
        return seconds

    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        envelope = Envelope(
            task=task.module_path,
            args=list(args),
            kwargs=dict(kwargs),
            task_id=uuid.uuid4().hex,
            enqueued_at=timezone.now().isoformat(),
            correlation_id=new_correlation_id(),
        )
        body = envelope.to_json()  # refuses unserialisable or oversized arguments now, in the caller
        delay = self.delay_seconds(task.run_after)
        # robust=False: a failed send raises in the caller (after the commit), never silently dropped.
        transaction.on_commit(lambda: self._send(envelope, body, delay), robust=False)
        return TaskResult(
            task=task,
            id=envelope.task_id,
            status=TaskResultStatus.READY,
            enqueued_at=datetime.fromisoformat(envelope.enqueued_at),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=envelope.args,
            kwargs=envelope.kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )

    def _send(self, envelope, body, delay):
        try:
            self.publish(envelope, body, delay)
        except Exception:
            logger.exception(
                "could not enqueue task %s (id %s, correlation %s) on %s",
                envelope.task,
                envelope.task_id,
                envelope.correlation_id,
                self.queue_url,
            )
            raise
        logger.info("enqueued task %s (id %s, delay %s s)", envelope.task, envelope.task_id, delay)

    @abstractmethod
    def publish(self, envelope, body, delay_seconds):
        """Put BODY on the queue, visible after DELAY_SECONDS."""
