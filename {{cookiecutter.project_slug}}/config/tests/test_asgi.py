"""The default middleware stack is async end to end under ASGI: no middleware makes Django hop threads.

A sync-only middleware in an async stack makes Django wrap the layers around it (async_to_sync inside
sync_to_async): every request then crosses threads twice more, and a client that disconnects mid-request can
leave asgiref's executor broken. With DEBUG on, Django logs each such adaptation on the django.request logger
while it builds the stack; these tests build the ASGI handler the servers run and collect those lines.
"""

import asyncio
import logging

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings

HEALTHZ_SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/healthz",
    "raw_path": b"/healthz",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"10.0.1.23:8000")],
    "client": ("10.0.1.1", 40000),
    "server": ("10.0.1.23", 8000),
}


class SyncOnlyMiddleware:
    """A middleware written the old way: sync only (Django's default when a class declares nothing)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def serve_through_asgi(scope):
    """Build a fresh ASGI handler, serve one request through it; returns (adaptation log lines, status)."""
    collect, logger = Collect(), logging.getLogger("django.request")
    level = logger.level
    logger.addHandler(collect)
    logger.setLevel(logging.DEBUG)
    sent, requests = [], [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client stays connected until the handler is done with it

    async def send(message):
        sent.append(message)

    # As Django's own test client does: the test database must not be closed around a request.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        with override_settings(DEBUG=True):
            handler = ASGIHandler()
            async_to_sync(handler)(scope, receive, send)
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    adaptations = [message for message in collect.messages if "adapted" in message]
    # Django logs no line when it wraps the outermost layer, so a sync-only first middleware is found here.
    if isinstance(handler._middleware_chain, SyncToAsync):
        adaptations.append(f"Synchronous handler adapted for the outermost middleware {settings.MIDDLEWARE[0]}.")
    start = next(message for message in sent if message["type"] == "http.response.start")
    return adaptations, start["status"]


def test_no_default_middleware_is_adapted_under_asgi():
    adaptations, status = serve_through_asgi(HEALTHZ_SCOPE)
    assert status == 200
    assert adaptations == []


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_sync_only_middleware_would_be_reported(where):
    # The check above can fail: one old-style middleware, outermost or innermost, shows up by name.
    old_style = f"{__name__}.SyncOnlyMiddleware"
    stack = [old_style, *settings.MIDDLEWARE] if where == "first" else [*settings.MIDDLEWARE, old_style]
    with override_settings(MIDDLEWARE=stack):
        adaptations, status = serve_through_asgi(HEALTHZ_SCOPE)
    assert status == 200
    assert any(old_style in message for message in adaptations), adaptations
