"""What the current request (or task) is, for log lines and metrics, in context variables.

Context variables follow the work: asgiref copies them into the thread a sync view runs in, and a task
consumer sets its own with bind().
"""

import contextlib
import contextvars
import random
import re

request_id = contextvars.ContextVar("request_id", default=None)
route = contextvars.ContextVar("route", default=None)
# The Django request being served, so a log line can name the route and, once authentication has looked the
# user up, the user id; never used to trigger a lookup.
current_request = contextvars.ContextVar("current_request", default=None)

# An incoming id is kept only when it is short and made of safe characters: it ends up in every log line.
ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:=;/+-]{1,200}$")
AMZN_TRACE_ROOT = re.compile(r"(?:^|;)Root=([A-Za-z0-9-]{1,100})")


def route_name(match):
    """The URL name with its namespace ('notes:detail'), else the route pattern ('notes/<int:pk>/')."""
    if match is None:
        return None
    return match.view_name if match.url_name else match.route


def new_request_id():
    # Not uuid4(): its os.urandom call releases the GIL on the event loop, which then queues behind the view
    # threads to get it back (about 1% of a worker's samples under load). An id needs to be unique, not secret;
    # random's generator is seeded from the OS and reseeded in every process gunicorn forks.
    return f"{random.getrandbits(128):032x}"


def request_id_from_headers(headers):
    """X-Request-ID when a client or proxy sent a usable one, else the ALB's trace root, else a new id."""
    given = (headers.get("X-Request-ID") or "").strip()
    if ACCEPTABLE_ID.match(given):
        return given
    trace = AMZN_TRACE_ROOT.search(headers.get("X-Amzn-Trace-Id") or "")
    if trace:
        return trace.group(1)
    return new_request_id()


@contextlib.contextmanager
def bind(id_=None, route_=None, request=None):
    """Set the request id (a new one if none is given), route and request for the duration of a block."""
    tokens = [
        (request_id, request_id.set(id_ or new_request_id())),
        (route, route.set(route_)),
        (current_request, current_request.set(request)),
    ]
    try:
        yield request_id.get()
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)
