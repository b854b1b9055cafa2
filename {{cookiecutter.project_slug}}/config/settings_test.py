"""Settings for the test suite: the real settings, with test-only defaults for what a developer has not set."""

import os
import uuid

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")
# Production defaults need neither a .env nor DEBUG (none exists inside the container image): the test client's
# host, and plain HTTP (tests that check the HTTPS redirect switch it on themselves).
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from config.settings import *  # noqa: F403

# Manifest storage needs collectstatic; tests render pages without it.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The suite may share a Redis server with other runs: its keys get a prefix of their own, and conftest.py deletes
# them when the run ends.
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":  # noqa: F405
    _prefix = CACHES["default"].get("KEY_PREFIX", "")  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = ":".join(filter(None, [_prefix, "test", uuid.uuid4().hex[:12]]))  # noqa: F405
