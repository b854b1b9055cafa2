import logging

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.utils.decorators import sync_and_async_middleware
from django.utils.deprecation import MiddlewareMixin

from . import views

logger = logging.getLogger(__name__)
# What Django raises when the database is down, a query was cancelled or the pool had no connection in time.
UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5

# Path -> (view, blocking). A blocking view queries the database, so under ASGI it runs in Django's thread for
# sync code; liveness does no I/O at all and is answered on the event loop itself.
HEALTH_VIEWS = {"/healthz": (views.healthz, False), "/readyz": (views.readyz, True)}


def unavailable():
    response = HttpResponse("Service temporarily unavailable, retry shortly.\n", status=503, content_type="text/plain")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@sync_and_async_middleware
class HealthCheckMiddleware:
    """Answer health checks before host validation and the HTTPS redirect.

    ALB and ECS health checks arrive over plain HTTP with the target's private IP as Host, which neither
    ALLOWED_HOSTS nor SECURE_SSL_REDIRECT would accept. Only these two paths are exempt; every other path
    still meets both.

    Sync and async: under uvicorn workers the whole stack stays async, so a request crosses no thread
    boundary on its way to the view (a sync-only middleware first in the stack would add two hops to each).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        view, _ = HEALTH_VIEWS.get(request.path_info, (None, False))
        if view is None:
            return self.get_response(request)
        return view(request)

    async def __acall__(self, request):
        view, blocking = HEALTH_VIEWS.get(request.path_info, (None, False))
        if view is None:
            return await self.get_response(request)
        if blocking:
            return await sync_to_async(view)(request)
        return view(request)


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """A view that cannot reach the database answers 503 with Retry-After, not 500.

    Covers a database that is down, restarting or failing over, a query cancelled by statement_timeout (a lock
    held too long) and a pool with no free connection within DATABASE_POOL_TIMEOUT: all pass soon, so clients
    and the load balancer are told to retry.
    """

    # MiddlewareMixin makes it sync and async capable, so it adds no thread hop under ASGI.

    def process_exception(self, request, exception):
        if isinstance(exception, UNAVAILABLE):
            logger.warning("database unavailable for %s: %r", request.path, exception)
            return unavailable()
        return None
