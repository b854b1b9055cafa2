"""What the app refuses: pages that break the Content-Security-Policy, and request bodies over the limit."""

import asyncio
from html.parser import HTMLParser

import pytest
from django.conf import settings

from config.asgi import limit_request_body
from {{ cookiecutter.project_slug }}.notes.models import Note

PAGES = [
    "/",
    "/admin/login/",
    "/admin/",
    "/admin/notes/note/",
    "/admin/notes/note/add/",
    "/admin/notes/note/{pk}/change/",
]


class PolicyBreaches(HTMLParser):
    """Collects what SECURE_CSP (self-only scripts and styles, no inline code) would block in a page."""

    def __init__(self):
        super().__init__()
        self.breaches = []
        self.inline = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name.startswith("on"):
                self.breaches.append(f"<{tag} {name}=...>: inline event handler")
        if "style" in attrs:
            self.breaches.append(f"<{tag} style=...>: inline style")
        if tag in ("script", "style") and not attrs.get("src"):
            self.inline = tag
        for name in ("src", "href", "action"):
            value = attrs.get(name) or ""
            if tag in ("script", "img", "link", "form") and value.startswith(("http:", "https:", "//")):
                self.breaches.append(f"<{tag} {name}={value}>: another origin")
            if value.startswith("javascript:"):
                self.breaches.append(f"<{tag} {name}={value}>: javascript: URL")

    def handle_data(self, data):
        if self.inline and data.strip() and not (self.inline == "script" and data.strip().startswith("{")):
            self.breaches.append(f"inline <{self.inline}>: {data.strip()[:60]!r}")

    def handle_endtag(self, tag):
        self.inline = None


def breaches(html):
    parser = PolicyBreaches()
    parser.feed(html)
    return parser.breaches


def test_the_policy_allows_only_this_sites_own_code():
    policy = settings.SECURE_CSP
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_admin_and_notes_pages_pass_the_content_security_policy(client, admin_user, path):
    note = Note.objects.create(title="A note", body="text")
    if path != "/admin/login/":
        client.force_login(admin_user)
    response = client.get(path.format(pk=note.pk))
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert breaches(response.content.decode()) == []


def test_the_page_checker_sees_inline_code():
    assert breaches('<p onclick="x()">a</p><script>alert(1)</script><div style="color:red"></div>') != []
    assert len(breaches('<p onclick="x()">a</p><script>alert(1)</script><div style="color:red"></div>')) == 3


def serve(app, headers, chunks):
    """Run the ASGI callable on one HTTP request; returns (what was sent back, what the app received)."""
    sent, received = [], []
    messages = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1} for n, chunk in enumerate(chunks)
    ]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def inner(scope, receive, send):
        while True:
            message = await receive()
            received.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        if received[-1]["type"] != "http.disconnect":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(limit_request_body(inner, limit=100)(scope, receive, send))
    return sent, received


def test_a_declared_body_over_the_limit_is_refused_before_the_app_reads_anything():
    sent, received = serve(None, [(b"content-length", b"101")], [b"x" * 101])
    assert sent[0]["status"] == 413
    assert received == []


def test_an_undeclared_body_is_cut_off_when_it_passes_the_limit():
    sent, received = serve(None, [(b"transfer-encoding", b"chunked")], [b"x" * 60, b"x" * 60, b"x" * 60])
    assert [message["status"] for message in sent if "status" in message] == [413]
    assert received[-1] == {"type": "http.disconnect"}
    assert len(received) == 2  # the third chunk is never read


def test_a_body_within_the_limit_reaches_the_app():
    sent, received = serve(None, [(b"content-length", b"100")], [b"x" * 50, b"x" * 50])
    assert sent[0]["status"] == 200
    assert len(received) == 2
