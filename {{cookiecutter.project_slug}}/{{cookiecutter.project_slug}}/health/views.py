"""Liveness and readiness endpoints for the load balancer, ECS and docker compose."""

import logging
import secrets
import sys

from django.core.cache import cache
from django.db import connections
from django.http import HttpResponseServerError, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """Liveness: the process answers. No dependency is checked, so a database outage never kills tasks."""
    return JsonResponse({"status": "ok"})


def check_database():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache():
    # A key of its own per probe: probes from every worker run at once and must not read each other's value.
    token = secrets.token_hex(8)
    key = f"readyz:probe:{token}"
    cache.set(key, token, timeout=10)
    try:
        if cache.get(key) != token:
            raise RuntimeError("value written to the cache was not read back")
    finally:
        cache.delete(key)


CHECKS = {"database": check_database, "cache": check_cache}


@never_cache
@require_safe
def readyz(request):
    """Readiness: the database and the cache answer. 503 names each dependency that failed."""
    checks = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure means not ready; the log keeps the detail
            logger.warning("readiness check %s failed: %r", name, error)
            checks[name] = f"error: {type(error).__name__}"
        else:
            checks[name] = "ok"
    failed = [name for name, result in checks.items() if result != "ok"]
    body = {"status": "unavailable" if failed else "ok", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


def server_error(request):
    """handler500: database trouble that escaped DatabaseUnavailableMiddleware (raised outside a view) is 503 too."""
    from .middleware import UNAVAILABLE, unavailable  # here: the middleware imports this module

    if isinstance(sys.exception(), UNAVAILABLE):
        return unavailable()
    return HttpResponseServerError("Server error.\n", content_type="text/plain")
