from . import views

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
