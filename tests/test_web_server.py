"""The generated app served as in production (gunicorn with uvicorn workers, real PostgreSQL and Redis) while
clients abandon requests midway: every request that completes is a 200, and nothing is logged above DEBUG.

A sync-only middleware in the default stack broke this: disconnects left asgiref's executors and the database
pool in a bad state, so later requests failed (PoolTimeout, `CurrentThreadExecutor already quit or is broken`)
although the clients that caused it saw nothing.
"""

import http.client
import json
import os
import random
import socket
import struct
import threading

import pytest
from project import DEFAULT, make_venv, run
from services import REDIS_URL, gunicorn, postgres_database, require_shared_services, run_unique

WORKERS = 2
# A page that reads the database, and readiness, which reads the database and the cache.
PATHS = ["/", "/readyz"]
ABANDONING_CLIENTS, ABANDONS_EACH = 2, 300
# Completing clients send requests while others abandon theirs, then this many more each: a database
# connection or an executor that an abandoned request left unusable fails these.
COMPLETING_CLIENTS, REQUESTS_AFTER = 4, 20
# Behind the load balancer: its Host and X-Forwarded-Proto, so no redirect to HTTPS.
HEADERS = {"Host": "localhost", "X-Forwarded-Proto": "https"}
# Not log lines: the access log (its statuses are checked from the clients' side) and one EMF metrics record
# per request (a JSON object with an "_aws" key).
NOT_LOG_LINES = {"gunicorn.access", "uvicorn.access"}


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
            # A small pool per worker, so a connection that an abandoned request never returns is soon missed, and a
            # long wait for one: abandoned requests still finish their queries, and on a busy machine the queue
            # behind them may take seconds (a 503 then would be the pool's designed answer to overload, not a leak).
            "DATABASE_POOL_MAX_SIZE": "3",
            "DATABASE_POOL_TIMEOUT": "60",
        }
        run([venv / "bin/python", "manage.py", "migrate", "--noinput"], cwd=project, env=env)
        yield {"project": project, "venv": venv, "env": env, "log": tmp_path_factory.mktemp("web") / "app.log"}


def complete(port, statuses, failures, broken, abandoning_done):
    """Send requests one after another until the abandoning clients are done, then REQUESTS_AFTER more.
    Every client stops at the first failure."""
    i = after = 0
    while not broken.is_set() and after < REQUESTS_AFTER:
        if abandoning_done.is_set():
            after += 1
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            connection.request("GET", PATHS[i % len(PATHS)], headers=HEADERS)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            if response.status != 200:
                broken.set()
        except OSError as error:
            failures.append(repr(error))
            broken.set()
        finally:
            connection.close()
        i += 1


def abandon(port, count, seed, broken):
    """Send a request, then reset the connection within a few milliseconds: mostly while the view runs."""
    pause = random.Random(seed)
    for i in range(count):
        if broken.is_set():
            return
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            head = "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
            sock.sendall(f"GET {PATHS[i % len(PATHS)]} HTTP/1.1\r\n{head}\r\n".encode())
            threading.Event().wait(pause.uniform(0, 0.02))
            # Linger 0: close sends a reset, as a client that gives up does, instead of a polite FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def above_debug_level(line):
    """The app logs one JSON object per line (observability/logs.py): anything else (a traceback, a stray print)
    counts, as does any line above DEBUG that is not an access line or a metrics record."""
    try:
        entry = json.loads(line)
    except ValueError:
        return True
    if not isinstance(entry, dict):
        return True
    if "_aws" in entry or entry.get("logger") in NOT_LOG_LINES:
        return False
    return entry.get("level") != "DEBUG"


def test_abandoned_requests_leave_completed_ones_served_and_the_log_quiet(app):
    statuses, failures, broken, abandoning_done = [], [], threading.Event(), threading.Event()
    served = (app["venv"], app["project"], "config.asgi:application", app["env"], WORKERS)
    config = app["project"] / "gunicorn.conf.py"
    with gunicorn(*served, config=config, log_path=app["log"], log_level="debug") as server:
        started = len(server.log())
        completing = [
            threading.Thread(target=complete, args=(server.port, statuses, failures, broken, abandoning_done))
            for _ in range(COMPLETING_CLIENTS)
        ]
        abandoning = [
            threading.Thread(target=abandon, args=(server.port, ABANDONS_EACH, seed, broken))
            for seed in range(ABANDONING_CLIENTS)
        ]
        for client in completing + abandoning:
            client.start()
        for client in abandoning:
            client.join()
        abandoning_done.set()
        for client in completing:
            client.join()
        during_load = server.log()[started:]
    above_debug = [line for line in during_load.splitlines() if above_debug_level(line)]
    log = "\n".join(above_debug[:80])
    assert failures == [], log
    assert set(statuses) == {200}, log
    assert len(statuses) >= COMPLETING_CLIENTS * REQUESTS_AFTER
    assert above_debug == [], log
