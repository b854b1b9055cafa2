"""The Celery worker: one generic Celery task runs any Django task from its envelope.

Failures are not retried by publishing copies: the message stays on SQS (late acks, not acknowledged on
failure), kombu's backoff policy makes it invisible for base x 2^(receive count - 1) seconds, and SQS moves it,
payload intact, to the dead-letter queue after the queue's maxReceiveCount. Start: celery -A <this module> worker.
"""

import logging
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import close_old_connections  # noqa: E402

from . import runner  # noqa: E402
from .envelope import Envelope  # noqa: E402

logger = logging.getLogger(__name__)

QUEUE = "tasks"  # the kombu name of the one predefined queue
RUN_TASK = "background.run"


def backoff_policy():
    """Seconds of invisibility by receive count, as kombu's SQS transport takes them."""
    base, cap = settings.TASKS_BACKOFF_BASE_SECONDS, settings.TASKS_BACKOFF_MAX_SECONDS
    return {count: min(cap, base * 2 ** (count - 1)) for count in range(1, 31)}


app = Celery("background")
app.conf.update(
    # Credentials and region come from the environment (the ECS task role); no ListQueues or CreateQueue rights
    # are needed with predefined queues.
    broker_url="sqs://",
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "region": settings.AWS_REGION,
        "predefined_queues": {
            QUEUE: {
                "url": settings.TASKS_QUEUE_URL,
                "backoff_policy": backoff_policy(),
                "backoff_tasks": [RUN_TASK],
            }
        },
        "visibility_timeout": settings.TASKS_VISIBILITY_TIMEOUT_SECONDS,
        "wait_time_seconds": 20,
        # kombu also waits polling_interval (1 s by default) before it polls again whenever every pool process
        # is busy, so each finished task would leave its process idle for up to a second. An empty queue is
        # still long-polled (wait_time_seconds); this only bounds how soon a freed process asks for more.
        "polling_interval": 0.1,
    },
    task_default_queue=QUEUE,
    task_create_missing_queues=False,
    task_acks_late=True,
    task_acks_on_failure_or_timeout=False,
    task_reject_on_worker_lost=True,
    task_time_limit=settings.TASKS_TIME_LIMIT_SECONDS,
    task_ignore_result=True,
    result_backend=None,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    task_send_sent_event=False,
    worker_enable_remote_control=False,  # remote control would need SNS/extra queues on SQS
    task_serializer="json",
    accept_content=["json"],
)


@app.task(name=RUN_TASK, bind=True)
def run(self, body):
    close_old_connections()
    try:
        return runner.run(Envelope.from_json(body), worker_id=self.request.hostname or "")
    finally:
        close_old_connections()


@signals.task_failure.connect
def log_failure(sender=None, task_id=None, exception=None, **kwargs):
    logger.error("task message %s failed (%r); SQS redelivers it after its backoff", task_id, exception)
