import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from . import views

logger = logging.getLogger(__name__)
# What Django raises when the database is down, a query was cancelled or the pool had no connection in time.
UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def unavailable():
    response = HttpResponse("Service temporarily unavailable, retry shortly.\n", status=503, content_type="text/plain")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


HEALTH_VIEWS = {"/healthz": views.healthz, "/readyz": views.readyz}


class HealthCheckMiddleware:
    """Answer health checks before host validation and the HTTPS redirect.

    ALB and ECS health checks arrive over plain HTTP with the target's private IP as Host, which neither
    ALLOWED_HOSTS nor SECURE_SSL_REDIRECT would accept. Only these two paths are exempt; every other path
    still meets both.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = HEALTH_VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        return view(request)


class DatabaseUnavailableMiddleware:
    """A view that cannot reach the database answers 503 with Retry-After, not 500.

    Covers a database that is down, restarting or failing over, a query cancelled by statement_timeout (a lock
    held too long) and a pool with no free connection within DATABASE_POOL_TIMEOUT: all pass soon, so clients
    and the load balancer are told to retry.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, UNAVAILABLE):
            logger.warning("database unavailable for %s: %r", request.path, exception)
            return unavailable()
        return None
