"""The two views the benchmark serves, in a bare `django-admin startproject` app: the Django baseline.

The same work as the generated project's /healthz and /readyz: a JSON answer, and one database round trip
plus one cache write, read and delete.
"""

import secrets

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    token = secrets.token_hex(8)
    key = f"readyz:probe:{token}"
    cache.set(key, token, timeout=10)
    ok = cache.get(key) == token
    cache.delete(key)
    return JsonResponse({"status": "ok" if ok else "unavailable"}, status=200 if ok else 503)
