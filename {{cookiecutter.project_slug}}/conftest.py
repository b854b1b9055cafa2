"""Fixtures for the whole suite."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _cache_keys_are_deleted_after_the_run():
    """Whatever the tests cached (readiness probes, sessions) is deleted at the end, and only that: on Redis the
    keys of this run share the prefix settings_test.py gives them."""
    yield
    from django.core.cache import cache

    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()  # the local-memory cache of this process
