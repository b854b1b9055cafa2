"""The services tests talk to, in one place: PostgreSQL and Redis addresses, free ports, waiting for servers.

TEST_POSTGRES_URL and TEST_REDIS_URL move the shared servers; every module reads them from here. Names made
per run keep concurrent runs (several clones on one machine) out of each other's databases and keys.
"""

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import typing
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


def on_test_servers(url):
    """A PostgreSQL or Redis URL written for other hosts (CI's service containers, say) moved onto the servers
    TEST_POSTGRES_URL and TEST_REDIS_URL name, keeping its database name or number."""
    parts = urllib.parse.urlsplit(url)
    server = urllib.parse.urlsplit(REDIS_URL if parts.scheme.startswith("redis") else POSTGRES_URL)
    return urllib.parse.urlunsplit(server._replace(path=parts.path))


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
def moto_server(recording=None):
    """A moto server on a free loopback port: AWS over real HTTP for boto3, kombu and watchtower.

    Yields its endpoint URL; aws_env(endpoint) gives the variables that point an AWS SDK at it. RECORDING, a
    file path, is where moto's recorder writes the requests it receives (see moto_requests).
    """
    port = free_port()
    env = {**os.environ, "MOTO_RECORDER_FILEPATH": str(recording)} if recording else None
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env
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


UVICORN_WORKER = "uvicorn_worker.UvicornWorker"


@contextlib.contextmanager
def gunicorn(venv, cwd, app, env, workers=2, config=None, log_path=None, log_level="info"):
    """Serve the ASGI APP from CWD under gunicorn with uvicorn workers, as the image's web role does.

    CONFIG (a gunicorn.conf.py) is read first and the bind, worker class, worker count and server log level
    given here win, so a generated project and a bare Django project run under the same server. Yields a Server
    once every worker has finished starting (an info line: a generated project's LOG_LEVEL must be INFO or DEBUG);
    its log (server and app output, and access lines when CONFIG routes them to stdout) is LOG_PATH.
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


class PrivatePostgres:
    """A PostgreSQL server of this test's own on a free port, which fault tests may stop, restart and freeze.

    It runs in its own process group, so SIGSTOP/SIGCONT reach the postmaster and every backend at once.
    With PASSWORD, the superuser `postgres` must log in with it over TCP (scram-sha-256), like RDS.
    """

    def __init__(self, password=None):
        # PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user, in a directory
        # of its own (pytest's are private to root).
        self.as_owner = []
        self.directory = Path(tempfile.mkdtemp(prefix="private-postgres-"))
        if os.geteuid() == 0:
            self.as_owner = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
            shutil.chown(self.directory, "postgres", "postgres")
        self.data = self.directory / "data"
        self.port = free_port()
        self.password = password
        self.process = None
        pwfile = self.directory / "pwfile"
        args = [*self.as_owner, "initdb", "--encoding=UTF8", "--username=postgres", "-D", self.data]
        if password:
            pwfile.write_text(password + "\n")
            if self.as_owner:
                shutil.chown(pwfile, "postgres")
            args += ["--auth-host=scram-sha-256", "--auth-local=trust", f"--pwfile={pwfile}"]
        else:
            args += ["--auth=trust"]
        subprocess.run([str(a) for a in args], check=True, capture_output=True)

    @property
    def url(self):
        secret = f":{self.password}" if self.password else ""
        return f"postgres://postgres{secret}@127.0.0.1:{self.port}"

    def start(self):
        self.log = open(self.directory / "postgres.log", "ab")  # noqa: SIM115 (kept open while it runs)
        self.process = subprocess.Popen(
            [*self.as_owner, "postgres", "-D", str(self.data), "-p", str(self.port), "-k", str(self.directory),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_for_port("127.0.0.1", self.port, process=self.process)
        self.wait_ready()

    def wait_ready(self, seconds=30):
        deadline = time.monotonic() + seconds
        while subprocess.run(
            ["pg_isready", "-q", "-h", str(self.directory), "-p", str(self.port)], check=False
        ).returncode:
            if time.monotonic() > deadline:
                raise AssertionError(f"PostgreSQL on {self.port} was not ready within {seconds} s")
            time.sleep(0.05)

    def stop(self):
        """A fast shutdown, as in a restart or failover: every connection is terminated."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        self.log.close()

    def processes(self):
        """The postmaster and every backend (each backend starts a session of its own, so no group reaches all)."""
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [self.process.pid, *map(int, children.split())]

    def freeze(self):
        """SIGSTOP the server: connections stay open and nothing answers, like a hung host."""
        for pid in self.processes():  # the postmaster first, so it forks nothing new meanwhile
            os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in reversed(self.processes()):
            os.kill(pid, signal.SIGCONT)

    def sql(self, statement, database="postgres"):
        """Run STATEMENT as the superuser over the local socket; returns psql's unaligned output."""
        result = subprocess.run(
            ["psql", "-h", str(self.directory), "-p", str(self.port), "-U", "postgres", "-d", database,
             "-v", "ON_ERROR_STOP=1", "-At", "-c", statement],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return result.stdout.strip()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.thaw()
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


class PrivateRedis:
    """A Redis server of this test's own on a free port, without persistence, to stop, restart and freeze."""

    def __init__(self, directory):
        self.directory = directory
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port("127.0.0.1", self.port, process=self.process)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)

    def freeze(self):
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.thaw()
            self.stop()


@contextlib.contextmanager
def served_app(project, venv, env, log_path):
    """The generated project served the production way: `python -m config.serve` (gunicorn, uvicorn workers).

    Yields the base URL. ENV holds the settings; the port is a free one.
    """
    port = free_port()
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(venv / "bin/python"), "-m", "config.serve"],
            cwd=project, env={**env, "PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(base + "/healthz", process=process)
            yield base
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A client with its own cookies that talks to the app as the load balancer forwards HTTPS to it.

    X-Forwarded-Proto: https and a same-site Referer pass the HTTPS redirect and CSRF checks; cookies (Secure
    ones too) are kept by hand. Redirects are answers, not followed. Connection failures are status 0.
    """

    def __init__(self, base, timeout=30):
        self.base, self.timeout = base, timeout
        self.host = urllib.parse.urlsplit(base).netloc
        self.cookies = {}
        self.opener = urllib.request.build_opener(_NoRedirects)

    def request(self, method, path, form=None, headers=None):
        """(status, body text, headers)."""
        sent = {"X-Forwarded-Proto": "https", "Referer": f"https://{self.host}{path}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        if data is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=data, headers=sent, method=method)
        try:
            response = self.opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            response = error
        except OSError:
            return 0, "", {}
        with response:
            try:
                body = response.read().decode(errors="replace")
            except OSError:
                return 0, "", {}
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response.status, body, response.headers

    def csrf_token(self, path):
        status, body, _ = self.request("GET", path)
        assert status == 200, f"GET {path} answered {status}"
        return body.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]

    def log_in(self, username, password):
        """Log in to the admin; returns the status of the POST (302 when it worked)."""
        token = self.csrf_token("/admin/login/")
        form = {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"}
        return self.request("POST", "/admin/login/?next=/admin/", form)[0]


class Load:
    """Steady traffic from threads until the block ends; every request is recorded.

    READERS threads GET READ_PATH; WRITERS threads each add notes through the admin as a logged-in user
    (titles unique to the run), so a Redis outage or a database fault is met by sessions and POSTs too.
    Records are (started, ended, kind, status), times from time.monotonic(). acknowledged holds the titles of
    the notes whose POST was answered with the admin's redirect.
    """

    def __init__(self, base, read_path="/notes/", readers=3, writers=1, admin=("admin", "")):
        self.base, self.read_path = base, read_path
        self.readers, self.writers, self.admin = readers, writers, admin
        self.records, self.acknowledged = [], []
        self.stopping = threading.Event()
        self.threads = []

    def read_loop(self):
        browser = Browser(self.base, timeout=30)
        while not self.stopping.is_set():
            started = time.monotonic()
            status = browser.request("GET", self.read_path)[0]
            self.records.append((started, time.monotonic(), "read", status))

    def write_loop(self, number):
        browser = Browser(self.base, timeout=30)
        while not self.stopping.is_set():
            started = time.monotonic()
            status = browser.log_in(*self.admin)
            self.records.append((started, time.monotonic(), "login", status))
            if status == 302:
                break
            time.sleep(0.2)
        token = browser.csrf_token("/admin/notes/note/add/")
        sequence = 0
        while not self.stopping.is_set():
            sequence += 1
            title = f"load {RUN_ID} {number} {sequence}"
            form = {"csrfmiddlewaretoken": token, "title": title, "body": "", "_save": "Save"}
            started = time.monotonic()
            status, _, headers = browser.request("POST", "/admin/notes/note/add/", form)
            self.records.append((started, time.monotonic(), "write", status))
            if status == 302 and "/admin/login/" not in headers.get("Location", ""):
                self.acknowledged.append(title)
            time.sleep(0.05)

    def __enter__(self):
        self.threads = [threading.Thread(target=self.read_loop, daemon=True) for _ in range(self.readers)]
        self.threads += [threading.Thread(target=self.write_loop, args=(n,), daemon=True) for n in range(self.writers)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def between(self, start, end=None, kind=None):
        """Records of requests started in [START, END), of KIND if given."""
        end = float("inf") if end is None else end
        return [r for r in self.records if start <= r[0] < end and (kind is None or r[2] == kind)]

    def first_success_after(self, moment, kind="read"):
        """When the first request started at or after MOMENT that succeeded ended."""
        ok = [r[1] for r in self.between(moment, kind=kind) if r[3] == 200]
        return min(ok) if ok else None

    def wait_for_requests(self, count, kind="read", seconds=60):
        """Wait until COUNT more requests of KIND have ended (steady load really ran)."""
        target = len([r for r in self.records if r[2] == kind]) + count
        deadline = time.monotonic() + seconds
        while len([r for r in self.records if r[2] == kind]) < target:
            assert time.monotonic() < deadline, f"fewer than {count} {kind} requests ended within {seconds} s"
            time.sleep(0.05)


def status_counts(records):
    """{status: count} of RECORDS, for printing and asserting."""
    counts = {}
    for record in records:
        counts[record[3]] = counts.get(record[3], 0) + 1
    return dict(sorted(counts.items()))


def moto_start_recording(endpoint):
    """From now on the moto server records every request it receives (moto_server(recording=...))."""
    request = urllib.request.Request(f"{endpoint}/moto-api/recorder/start-recording", method="POST", data=b"")
    urllib.request.urlopen(request, timeout=10).close()


def moto_requests(endpoint, action):
    """The JSON bodies of the recorded requests for ACTION (an AWS JSON-protocol target, e.g. AmazonSQS.SendMessage)."""
    _, body, _ = http_get(f"{endpoint}/moto-api/recorder/download-recording", timeout=10)
    found = []
    for line in body.decode().splitlines():
        entry = json.loads(line)
        if (entry.get("headers") or {}).get("X-Amz-Target") == action:
            raw = entry["body"]
            found.append(json.loads(base64.b64decode(raw) if entry.get("body_encoded") else raw))
    return found
