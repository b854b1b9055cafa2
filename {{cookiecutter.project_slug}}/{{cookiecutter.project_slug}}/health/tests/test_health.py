import pytest
from django.db import OperationalError, connections
from django.test import override_settings

BEHIND_ALB = {"ALLOWED_HOSTS": ["app.example.com"], "SECURE_SSL_REDIRECT": True}
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


def test_liveness_answers_without_touching_the_database(client):
    # No django_db mark: any query would raise here.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_checks_the_database_and_the_cache(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "failed": [], "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_readiness_is_503_naming_the_database_when_it_fails(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert response.json()["checks"]["database"] == "error: OperationalError"


@pytest.mark.django_db
@override_settings(CACHES=UNREACHABLE_REDIS)
def test_readiness_is_503_naming_the_cache_when_redis_is_unreachable(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
@override_settings(**BEHIND_ALB)
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_answer_plain_http_with_the_targets_private_ip_as_host(client, path):
    response = client.get(path, HTTP_HOST="10.0.1.23:8000")
    assert response.status_code == 200


@override_settings(**BEHIND_ALB)
def test_other_paths_still_reject_unknown_hosts(client):
    assert client.get("/notes/", HTTP_HOST="10.0.1.23:8000", secure=True).status_code == 400


@override_settings(**BEHIND_ALB)
def test_other_paths_still_redirect_plain_http_to_https(client):
    response = client.get("/notes/", HTTP_HOST="app.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://app.example.com/notes/"


def test_health_endpoints_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
