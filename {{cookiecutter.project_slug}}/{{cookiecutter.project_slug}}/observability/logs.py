"""Logging pieces for settings.LOGGING: request context on every record, JSON lines, and CloudWatch Logs shipping.

The JSON formatter is python-json-logger's; this module only adds the request id, route and user id, and makes
watchtower's handler safe to create before gunicorn or Celery fork.
"""

import logging
import os

import boto3
import watchtower
from django.utils.functional import empty
from pythonjsonlogger.json import JsonFormatter

from . import context, names

FIELDS = ["levelname", "name", "message"]
RENAMED = {"levelname": "level", "name": "logger"}


EMF_LOGGER = "observability.emf"


class LogFormatter(JsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, service, environment, request_id,
    route, user_id and any `extra`.

    service and environment (METRICS_SERVICE, METRICS_ENVIRONMENT) let terraform's metric filter count ERROR lines
    per service and environment. EMF records (already JSON objects) pass through untouched, so one handler can ship
    both to CloudWatch Logs.
    """

    def __init__(self, *args, service=None, environment=None, **kwargs):
        # gunicorn's master formats its own lines before Django's settings exist: the environment is read directly.
        static = {
            "service": service or os.environ.get("METRICS_SERVICE") or names.DEFAULT_SERVICE,
            "environment": environment or os.environ.get("METRICS_ENVIRONMENT") or names.DEFAULT_ENVIRONMENT,
        }
        super().__init__(FIELDS, rename_fields=RENAMED, timestamp="time", static_fields=static)

    def format(self, record):
        if record.name == EMF_LOGGER:
            return record.getMessage()
        return super().format(record)


def user_id_of(request):
    """The user's id if authentication already looked the user up; never triggers the lookup (no query here)."""
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or wrapped is empty:
        return None
    if getattr(wrapped, "is_authenticated", False):
        return wrapped.pk
    return None


class RequestContextFilter(logging.Filter):
    """Adds request_id, route and user_id (None when unknown) to every record that passes through a handler."""

    def filter(self, record):
        request = context.current_request.get()
        record.request_id = context.request_id.get()
        route = context.route.get()
        if route is None and request is not None:
            route = context.route_name(getattr(request, "resolver_match", None))
        record.route = route
        record.user_id = user_id_of(request) if request is not None else None
        return True


class CloudWatchLogsHandler(watchtower.CloudWatchLogHandler):
    """watchtower's handler, safe across fork: each process gets its own client, queues and sender thread.

    watchtower resets its queues in a forked child, but keeps the parent's boto3 client, whose connection pool
    would then be shared by two processes; the client is made anew in each process instead. The log stream is
    per host and process, so concurrent senders never write to one stream.
    """

    def __init__(self, log_group_name, **kwargs):
        kwargs.setdefault("log_stream_name", "{machine_name}/{program_name}/{process_id}")
        kwargs.setdefault("send_interval", 10)
        kwargs.setdefault("create_log_group", False)  # terraform owns the group (retention, KMS)
        super().__init__(log_group_name=log_group_name, boto3_client=self.new_client(), **kwargs)
        self._pid = os.getpid()

    @staticmethod
    def new_client():
        # AWS_REGION and AWS_ENDPOINT_URL come from the environment as for every other boto3 client.
        return boto3.session.Session().client("logs")

    def _at_fork_reinit(self):
        super()._at_fork_reinit()
        self.cwl_client = self.new_client()
        self._pid = os.getpid()

    def emit(self, message):
        if getattr(self, "_pid", os.getpid()) != os.getpid():  # forked without the fork hooks (os.fork in C code)
            self._at_fork_reinit()
        super().emit(message)
