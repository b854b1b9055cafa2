"""The services tests talk to, in one place: PostgreSQL and Redis addresses, free ports, waiting for servers.

TEST_POSTGRES_URL and TEST_REDIS_URL move the shared servers; every module reads them from here. Names made
per run keep concurrent runs (several clones on one machine) out of each other's databases and keys.
"""

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time
import typing
import urllib.error
import urllib.parse
import urllib.request
import uuid

from project import require, tool

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:6]


def address(url):
    """(host, port) of a service URL, with the scheme's default port."""
    parts = urllib.parse.urlsplit(url)
    default = {"postgres": 5432, "postgresql": 5432, "redis": 6379, "rediss": 6379}.get(parts.scheme)
    return parts.hostname or "127.0.0.1", parts.port or default


def postgres_database_url(name):
    """A URL for database NAME on the shared PostgreSQL server."""
    return f"{POSTGRES_URL}/{name}"


def redis_db_url(db):
    """The shared Redis server, database number DB."""
    parts = urllib.parse.urlsplit(REDIS_URL)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{db}"))


def run_unique(name):
    """NAME made unique to this test run, for databases and cache prefixes (lowercase, safe in SQL)."""
    return f"{name}_{RUN_ID}".lower()


def port_open(host, port, timeout=2):
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def require_shared_services():
    """The machine's PostgreSQL and Redis answer (a failure under CI=true, a skip elsewhere)."""
    require(port_open(*address(POSTGRES_URL)), f"PostgreSQL is not reachable at {POSTGRES_URL}")
    require(port_open(*address(REDIS_URL)), f"Redis is not reachable at {REDIS_URL}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(host, port, seconds=30, process=None):
    """Wait until HOST:PORT accepts connections; fail early if PROCESS (a Popen) has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(host, port, timeout=1):
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before listening on {port}")
        time.sleep(0.1)
    raise AssertionError(f"nothing listened on {host}:{port} within {seconds} s")


def http_get(url, timeout=5, headers=None):
    """(status, body bytes, headers) of a GET; HTTP errors are answers too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def http_json(url, timeout=5):
    status, body, _ = http_get(url, timeout=timeout)
    return status, json.loads(body)


def wait_for_http(url, seconds=60, process=None, timeout=2):
    """Poll URL until it answers at all; returns (status, body, headers). Fails early if PROCESS exited."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError):
            return http_get(url, timeout=timeout)
        if process is not None and process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"the server exited with {process.returncode} before answering {url}\n{output}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {seconds} s")
        time.sleep(0.2)


@contextlib.contextmanager
def moto_server():
    """A moto server on a free loopback port: AWS over real HTTP for boto3, kombu and watchtower.

    Yields its endpoint URL; aws_env(endpoint) gives the variables that point an AWS SDK at it.
    """
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port("127.0.0.1", port, process=process)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


def aws_env(endpoint, region="us-east-1"):
    """Environment variables that send every AWS SDK call (boto3's AWS_ENDPOINT_URL) to ENDPOINT."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextlib.contextmanager
def https_site(directory, host, status=200, body=b'{"status": "ok"}'):
    """A site served over HTTPS as `host` (a certificate for that name, from a CA made here) on a free local port.

    Yields a directory to give curl as CURL_HOME: its .curlrc trusts that CA and connects `host:443` to the local
    port, so a script that runs `curl https://<host>/...` unchanged reaches this site. Each request is answered
    `status` with `body`; the paths asked for are in the yielded object's `.paths`.
    """
    import http.server
    import ssl
    import threading
    from pathlib import Path

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "site.key", directory / "site.csr", directory / "site.pem"
    openssl = ["openssl"]
    subprocess.run(
        [*openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_cert,
         "-days", "1", "-subj", "/CN=test CA"],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [*openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={host}"],
        check=True, capture_output=True,
    )  # fmt: skip
    extensions = directory / "site.ext"
    extensions.write_text(f"subjectAltName=DNS:{host}\n")
    subprocess.run(
        [*openssl, "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "1", "-extfile", extensions],
        check=True, capture_output=True,
    )  # fmt: skip

    class Site:
        paths: typing.ClassVar[list] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # the name http.server calls
            Site.paths.append((self.headers.get("Host"), self.path))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    (directory / ".curlrc").write_text(f'cacert = "{ca_cert}"\nconnect-to = "{host}:443:127.0.0.1:{port}"\n')
    Site.curl_home = str(directory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site
    finally:
        server.shutdown()
        server.server_close()
