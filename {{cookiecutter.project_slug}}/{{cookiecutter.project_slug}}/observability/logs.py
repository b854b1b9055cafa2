"""Logging pieces for settings.LOGGING: request context on every record and JSON lines.

The JSON formatter is python-json-logger's; this module only adds the request id, route and user id. Shipping
to CloudWatch Logs is in cloudwatch_logs.py, so processes that do not ship never import boto3 (half a second of
every start).
"""

import logging
import os

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
