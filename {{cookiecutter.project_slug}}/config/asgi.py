"""ASGI entry point: gunicorn runs it with uvicorn workers in production."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TOO_LARGE = b"Request body too large.\n"


def limit_request_body(app, limit):
    """Refuse request bodies above LIMIT bytes with 413 before Django reads them.

    Django's ASGI handler reads the whole body (spooled to disk above 2.5 MB) before any view or middleware
    runs, so the check has to sit in front of it: a Content-Length above the limit is refused at once, and a
    chunked body is counted as it arrives and cut off the moment it passes the limit.
    """

    async def respond_too_large(send):
        headers = [
            (b"content-type", b"text/plain"),
            (b"content-length", b"%d" % len(TOO_LARGE)),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": TOO_LARGE})

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return await respond_too_large(send)
        received = 0
        refused = False

        async def counting_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now; the app sees the client go away and stops reading without responding.
                    refused = True
                    await respond_too_large(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not refused:
                await send(message)

        return await app(scope, counting_receive, guarded_send)

    return guarded


application = limit_request_body(get_asgi_application(), settings.REQUEST_BODY_MAX_BYTES)
