"""The generated app served as in production (gunicorn with uvicorn workers, real PostgreSQL and Redis) while
clients abandon requests midway: every request that completes is a 200, and nothing is logged above DEBUG.

A sync-only middleware in the default stack broke this: disconnects left asgiref's executors and the database
pool in a bad state, so later requests failed (PoolTimeout, `CurrentThreadExecutor already quit or is broken`)
although the clients that caused it saw nothing.
"""

import http.client
import os
import random
import re
import socket
import struct
import threading

import pytest
from project import DEFAULT, make_venv, run
from services import REDIS_URL, gunicorn, postgres_database, require_shared_services, run_unique

WORKERS = 2
# A page that reads the database, and readiness, which reads the database and the cache.
PATHS = ["/", "/readyz"]
COMPLETING_CLIENTS, REQUESTS_EACH = 4, 60
ABANDONING_CLIENTS, ABANDONS_EACH = 2, 150
# Behind the load balancer: its Host and X-Forwarded-Proto, so no redirect to HTTPS.
HEADERS = {"Host": "localhost", "X-Forwarded-Proto": "https"}
# Lines of the app's log: gunicorn's "[date] [pid] [LEVEL] ..." and the project's "date time LEVEL logger ...".
LOG_LEVEL = re.compile(r"^\[[^]]+\] \[\d+\] \[([A-Z]+)\] |^\d{4}-\d\d-\d\d [\d:,]+ ([A-Z]+) ")


@pytest.fixture(scope="module")
def app(generated, tmp_path_factory):
    """The default combination, migrated on its own database, and the environment its web role runs with."""
    require_shared_services()
    project = generated(**DEFAULT)
    venv = make_venv(project, DEFAULT["python_version"])
    name = run_unique("t_web_server")
    with postgres_database(venv / "bin/python", name) as database_url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))},
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": name,
            "SECRET_KEY": "web-server-test-not-secret",
            "ALLOWED_HOSTS": "localhost",
            "DOTENV_PATH": str(project / "absent.env"),
            "LOG_LEVEL": "DEBUG",
        }
        run([venv / "bin/python", "manage.py", "migrate", "--noinput"], cwd=project, env=env)
        yield {"project": project, "venv": venv, "env": env, "log": tmp_path_factory.mktemp("web") / "app.log"}


def complete(port, count, statuses, failures):
    for i in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("GET", PATHS[i % len(PATHS)], headers=HEADERS)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        except OSError as error:
            failures.append(repr(error))
        finally:
            connection.close()


def abandon(port, count, seed):
    """Send a request, then reset the connection within a few milliseconds: mostly while the view runs."""
    pause = random.Random(seed)
    for i in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            head = "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
            sock.sendall(f"GET {PATHS[i % len(PATHS)]} HTTP/1.1\r\n{head}\r\n".encode())
            threading.Event().wait(pause.uniform(0, 0.02))
            # Linger 0: close sends a reset, as a client that gives up does, instead of a polite FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_abandoned_requests_leave_completed_ones_served_and_the_log_quiet(app):
    statuses, failures = [], []
    with gunicorn(app["venv"], app["project"], "config.asgi:application", app["env"], WORKERS,
                  config=app["project"] / "gunicorn.conf.py", log_path=app["log"]) as server:  # fmt: skip
        started = len(server.log())
        clients = [
            threading.Thread(target=complete, args=(server.port, REQUESTS_EACH, statuses, failures))
            for _ in range(COMPLETING_CLIENTS)
        ] + [threading.Thread(target=abandon, args=(server.port, ABANDONS_EACH, n)) for n in range(ABANDONING_CLIENTS)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        during_load = server.log()[started:]
    assert failures == []
    assert statuses == [200] * COMPLETING_CLIENTS * REQUESTS_EACH
    above_debug = []
    for line in during_load.splitlines():
        match = LOG_LEVEL.match(line)
        if match is None or (match[1] or match[2]) != "DEBUG":
            above_debug.append(line)  # a traceback's lines match no format: each counts
    assert above_debug == [], "\n".join(above_debug[:60])
