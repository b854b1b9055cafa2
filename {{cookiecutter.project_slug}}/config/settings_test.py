"""Settings for the test suite: the real settings, with test-only defaults for what a developer has not set."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")
# Production defaults need neither a .env nor DEBUG (none exists inside the container image): the test client's
# host, and plain HTTP (tests that check the HTTPS redirect switch it on themselves).
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from config.settings import *  # noqa: F403

# Manifest storage needs collectstatic; tests render pages without it.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
