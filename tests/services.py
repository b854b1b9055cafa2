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
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

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


UVICORN_WORKER = "uvicorn_worker.UvicornWorker"


@contextlib.contextmanager
def gunicorn(venv, cwd, app, env, workers=2, config=None, log_path=None, log_level="info"):
    """Serve the ASGI APP from CWD under gunicorn with uvicorn workers, as the image's web role does.

    CONFIG (a gunicorn.conf.py) is read first and the bind, worker class, worker count and server log level
    given here win, so a generated project and a bare Django project run under the same server. Yields a Server
    once every worker has finished starting (an info line, hence LOG_LEVEL no higher than info); its log (server
    and app output; access lines go to their own file) is LOG_PATH.
    """
    port = free_port()
    log_path = Path(log_path or tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
    access_path = log_path.with_name(log_path.name + ".access")
    args = [Path(venv) / "bin" / "gunicorn", *(["--config", config] if config else [])]
    args += ["--bind", f"127.0.0.1:{port}", "--worker-class", UVICORN_WORKER, "--workers", str(workers)]
    args += ["--log-level", log_level, "--no-control-socket", "--access-logfile", access_path, app]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(a) for a in args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        server = Server(process, port, log_path, access_path)
        try:
            server.wait_until_started(workers)
            yield server
        finally:
            server.stop()


class Server:
    def __init__(self, process, port, log_path, access_path):
        self.process, self.port, self.log_path, self.access_path = process, port, log_path, access_path

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_until_started(self, workers, seconds=120):
        deadline = time.monotonic() + seconds
        while self.log().count("Application startup complete") < workers:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not start {workers} workers:\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@contextlib.contextmanager
def postgres_database(python, name):
    """A fresh database NAME on the shared PostgreSQL, made and dropped through PYTHON's psycopg (a generated
    project's virtualenv; the template's own tooling has no PostgreSQL driver). Yields its URL."""
    statement = "import psycopg, sys; psycopg.connect(sys.argv[1], autocommit=True).execute(sys.argv[2])"

    def execute(sql, check=True):
        subprocess.run([str(python), "-c", statement, postgres_database_url("postgres"), sql], check=check)

    execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_database_url(name)
    finally:
        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)
