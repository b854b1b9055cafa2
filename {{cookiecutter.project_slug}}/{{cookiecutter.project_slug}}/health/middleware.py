from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.utils.decorators import sync_and_async_middleware

from . import views

# Path -> (view, blocking). A blocking view queries the database, so under ASGI it runs in Django's thread for
# sync code; liveness does no I/O at all and is answered on the event loop itself.
HEALTH_VIEWS = {"/healthz": (views.healthz, False), "/readyz": (views.readyz, True)}


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
