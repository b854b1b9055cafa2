"""Health endpoints, through both request paths: the test client (WSGI, as `runserver`) and the async client
(ASGI, as the uvicorn workers in production), which runs the middleware's async path."""

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import cache
from django.db import OperationalError, connections
from django.test import override_settings

from .. import views

BEHIND_ALB = {"ALLOWED_HOSTS": ["app.example.com"], "SECURE_SSL_REDIRECT": True}
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


@pytest.fixture(params=["wsgi", "asgi"], ids=["through_wsgi", "through_asgi"])
def client_get(request, client, async_client):
    """client_get(path, host=..., secure=...): a GET through the sync test client or through the async one."""

    def wsgi_get(path, host="testserver", secure=False):
        return client.get(path, headers={"host": host}, secure=secure)

    def asgi_get(path, host="testserver", secure=False):
        # A scope of our own: the async client's get() would send its default Host beside the one given.
        headers = [(b"host", host.encode())]
        scheme = "https" if secure else "http"
        return async_to_sync(async_client.request)(
            method="GET", path=path, query_string="", scheme=scheme, headers=headers
        )

    return wsgi_get if request.param == "wsgi" else asgi_get


def test_liveness_answers_without_touching_the_database(client_get):
    # No django_db mark: any query would raise here.
    response = client_get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_checks_the_database_and_the_cache(client_get):
    response = client_get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "failed": [], "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_readiness_is_503_naming_the_database_when_it_fails(client_get, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = client_get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert response.json()["checks"]["database"] == "error: OperationalError"


@pytest.mark.django_db
def test_readiness_probes_at_the_same_moment_do_not_fail_each_other(client, monkeypatch):
    read, interleaved = cache.get, []

    def read_after_another_probe(key, *args, **kwargs):
        if not interleaved:
            interleaved.append(key)
            views.check_cache()  # another worker's probe, between this one's write and its read
        return read(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", read_after_another_probe)
    response = client.get("/readyz")
    assert interleaved
    assert response.json()["checks"]["cache"] == "ok"


@pytest.mark.django_db
@override_settings(CACHES=UNREACHABLE_REDIS)
def test_readiness_is_503_naming_the_cache_when_redis_is_unreachable(client_get):
    response = client_get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
@override_settings(**BEHIND_ALB)
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_answer_plain_http_with_the_targets_private_ip_as_host(client_get, path):
    response = client_get(path, host="10.0.1.23:8000")
    assert response.status_code == 200


@override_settings(**BEHIND_ALB)
def test_other_paths_still_reject_unknown_hosts(client_get):
    assert client_get("/notes/", host="10.0.1.23:8000", secure=True).status_code == 400


@override_settings(**BEHIND_ALB)
def test_other_paths_still_redirect_plain_http_to_https(client_get):
    response = client_get("/notes/", host="app.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://app.example.com/notes/"


def test_health_endpoints_refuse_writes(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_a_view_that_cannot_reach_the_database_answers_503_with_retry_after(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = client.get("/notes/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_concurrent_readiness_probes_write_keys_of_their_own(client, monkeypatch):
    from django.core.cache import cache

    written = []
    original = cache.set
    monkeypatch.setattr(
        cache, "set", lambda key, *args, **kwargs: written.append(key) or original(key, *args, **kwargs)
    )
    assert client.get("/readyz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert len(written) == 2
    assert written[0] != written[1]


@pytest.mark.django_db
@override_settings(
    CACHES={
        "default": {
            **UNREACHABLE_REDIS["default"],
            "OPTIONS": {**UNREACHABLE_REDIS["default"]["OPTIONS"], "IGNORE_EXCEPTIONS": True},
        }
    }
)
def test_with_the_cache_down_sessions_and_pages_keep_working(admin_client):
    # admin_client logged in through a session: it lives in the database, so no cache is needed to use it.
    assert admin_client.get("/admin/").status_code == 200
    assert admin_client.get("/notes/").status_code == 200
