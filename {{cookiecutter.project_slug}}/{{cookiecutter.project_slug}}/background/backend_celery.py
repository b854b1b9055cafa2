"""The backend for the Celery consumer: the envelope travels as the one argument of the generic Celery task."""

from .backend import QueueBackendBase


class QueueBackend(QueueBackendBase):
    def publish(self, envelope, body, delay_seconds):
        from .celery_app import RUN_TASK, app

        app.send_task(RUN_TASK, args=[body], countdown=delay_seconds or None, task_id=envelope.task_id)
