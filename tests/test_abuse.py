"""The generated app, served the production way, refuses what would hurt it: huge bodies, password guessing,
foreign scripts and connections held open without a request."""

import contextlib
import re
import select
import socket
import time

import pytest
from project import DEFAULT, make_venv, manage, production_env
from services import (
    REDIS_URL,
    Browser,
    http_get,
    postgres_database_url,
    require_shared_services,
    run_unique,
    served_app,
)

BODY_LIMIT = 1024 * 1024
FAILURE_LIMIT = 3
HEADER_TIMEOUT = 2
KEEPALIVE = 3
ADMIN = ("admin", "abuse-tests-only-password")


@pytest.fixture(scope="module")
def app(generated, tmp_path_factory):
    require_shared_services()
    project = generated(**DEFAULT)
    venv = make_venv(project, DEFAULT["python_version"])
    name = run_unique("abuse")
    env = production_env(
        project,
        DATABASE_URL=postgres_database_url(name),
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX=name,
        REQUEST_BODY_MAX_BYTES=str(BODY_LIMIT),
        AXES_FAILURE_LIMIT=str(FAILURE_LIMIT),
        REQUEST_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        GUNICORN_KEEPALIVE=str(KEEPALIVE),
    )
    admin_env = env | {"DATABASE_URL": postgres_database_url("postgres")}
    statement = "from django.db import connection; connection.cursor().execute({!r})"
    manage(project, venv, admin_env, "shell", "-c", statement.format(f"CREATE DATABASE {name}"))
    manage(project, venv, env, "migrate", "--noinput", "-v0")
    manage(project, venv, env, "collectstatic", "--noinput", "-v0")
    superuser = env | {"DJANGO_SUPERUSER_PASSWORD": ADMIN[1]}
    manage(
        project, venv, superuser, "createsuperuser", "--noinput", "--username", ADMIN[0], "--email", "admin@example.com"
    )
    log = tmp_path_factory.mktemp("abuse-app") / "app.log"
    try:
        with served_app(project, venv, env, log) as base:
            yield base
    finally:
        manage(project, venv, admin_env, "shell", "-c", statement.format(f"DROP DATABASE {name} WITH (FORCE)"))


def address(base):
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def post_endlessly(base, chunked):
    """POST a body that never ends to a GET-only page; returns (status line, bytes sent before the answer)."""
    head = "POST /notes/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {3 * 1024**3}\r\n\r\n"
    piece = b"x" * 65536
    piece = b"10000\r\n" + piece + b"\r\n" if chunked else piece
    sent, answer = 0, b""
    with socket.create_connection(address(base), timeout=30) as sock:
        sock.sendall(head.encode())
        while sent < 512 * 1024 * 1024:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(piece)
            except OSError:  # the server closed the connection: read its answer
                break
            sent += len(piece)
        with contextlib.suppress(OSError):
            answer = sock.recv(4096)
    return answer.split(b"\r\n", 1)[0].decode(), sent


@pytest.mark.parametrize("chunked", [False, True], ids=["with Content-Length", "chunked without Content-Length"])
def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(app, chunked):
    status_line, sent = post_endlessly(app, chunked)
    print(f"\n{'chunked' if chunked else 'Content-Length'}: {status_line!r} after {sent / 1024**2:.1f} MB sent")
    assert status_line == "HTTP/1.1 413 Request Entity Too Large"
    # What the client managed to push into socket buffers before the refusal, nothing like the 3 GB it offered.
    assert sent < 64 * 1024**2


def test_a_body_under_the_limit_still_reaches_the_app(app):
    browser = Browser(app)
    token = browser.csrf_token("/admin/login/")
    status, _, _ = browser.request(
        "POST", "/admin/login/", {"csrfmiddlewaretoken": token, "username": "x", "password": "y" * (BODY_LIMIT // 2)}
    )
    assert status == 200  # the login form again, with its error: read and answered by Django


def test_admin_login_locks_out_an_account_from_one_address(app):
    spoofer = Browser(app)
    attempts = []
    for number in range(FAILURE_LIMIT + 2):
        # The client rotates the X-Forwarded-For entry it writes itself; the balancer's own entry (the last) stays.
        headers = {"X-Forwarded-For": f"198.51.100.{number}, 203.0.113.7"}
        token = spoofer.csrf_token("/admin/login/")
        form = {"csrfmiddlewaretoken": token, "username": ADMIN[0], "password": f"wrong {number}", "next": "/admin/"}
        attempts.append(spoofer.request("POST", "/admin/login/?next=/admin/", form, headers)[0])
    locked_out = {"X-Forwarded-For": "203.0.113.7"}
    token = spoofer.csrf_token("/admin/login/")
    form = {"csrfmiddlewaretoken": token, "username": ADMIN[0], "password": ADMIN[1], "next": "/admin/"}
    right_password = spoofer.request("POST", "/admin/login/?next=/admin/", form, locked_out)[0]
    print(f"\nwrong passwords answered {attempts}; then the right one {right_password}")
    assert attempts[: FAILURE_LIMIT - 1] == [200] * (FAILURE_LIMIT - 1)
    assert set(attempts[FAILURE_LIMIT - 1 :]) == {429}
    assert right_password == 429  # locked out: even the right password does not log in
    # The same account from another address, and another account from the locked-out address, still work.
    elsewhere = Browser(app)
    token = elsewhere.csrf_token("/admin/login/")
    form = {"csrfmiddlewaretoken": token, "username": ADMIN[0], "password": ADMIN[1], "next": "/admin/"}
    assert elsewhere.request("POST", "/admin/login/?next=/admin/", form, {"X-Forwarded-For": "192.0.2.1"})[0] == 302


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/notes/"])
def test_pages_carry_a_strict_content_security_policy_and_no_server_header(app, path):
    status, _, headers = http_get(app + path, headers={"X-Forwarded-Proto": "https"})
    assert status == 200
    policy = headers["Content-Security-Policy"]
    print(f"\n{path}: Content-Security-Policy: {policy}")
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "Server" not in headers


def open_idle(base, count):
    return [socket.create_connection(address(base), timeout=30) for _ in range(count)]


def closed_by_server(sock, within):
    """True when the server closes SOCK within WITHIN seconds (recv returns b"" or the connection resets)."""
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def test_idle_and_trickling_connections_are_closed_after_the_header_timeout(app):
    idle = open_idle(app, 20)
    trickling = open_idle(app, 20)
    opened = time.monotonic()
    for sock in trickling:
        sock.sendall(b"GET /notes/ HTTP/1.1\r\n")
    # Keep trickling a header byte at a time past the timeout.
    for _ in range(HEADER_TIMEOUT * 2):
        time.sleep(0.5)
        for sock in trickling:
            with contextlib.suppress(OSError):
                sock.sendall(b"X")
    results = [closed_by_server(sock, within=HEADER_TIMEOUT + 5) for sock in idle + trickling]
    print(f"\n{sum(results)} of {len(results)} idle and trickling connections closed within "
          f"{time.monotonic() - opened:.1f} s (header timeout {HEADER_TIMEOUT} s)")  # fmt: skip
    assert all(results)


def test_a_kept_alive_connection_is_closed_after_the_keepalive_timeout(app):
    (sock,) = open_idle(app, 1)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    response = sock.recv(4096)
    assert response.startswith(b"HTTP/1.1 200")
    assert not re.search(rb"(?im)^server:", response)
    assert closed_by_server(sock, within=KEEPALIVE + 5)
