"""The generated app under faults: its own PostgreSQL and Redis are restarted, stopped, frozen and locked while
real gunicorn with uvicorn workers serves steady load. Nothing returns 500, recovery is quick, and every write
the app acknowledged is in the database at the end. Counts are printed (pytest -s shows them).
"""

import threading
import time

import pytest
from project import DEFAULT, make_venv, manage, production_env
from services import Load, PrivatePostgres, PrivateRedis, http_get, http_json, served_app, status_counts

# Short bounds, so the tests see them act; production defaults are in the generated README.
STATEMENT_TIMEOUT = 2
POOL_TIMEOUT = 2
ADMIN = ("admin", "fault-tests-only-password")
RECOVERY_SECONDS = 2  # after the database is back, the first request to succeed ends within this


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with PrivatePostgres() as postgres, PrivateRedis(tmp_path_factory.mktemp("redis")) as redis:
        postgres.sql("CREATE DATABASE app")
        yield postgres, redis


@pytest.fixture(scope="module")
def app(generated, services, tmp_path_factory):
    postgres, redis = services
    project = generated(**DEFAULT)
    venv = make_venv(project, DEFAULT["python_version"])
    env = production_env(
        project,
        DATABASE_URL=f"{postgres.url}/app",
        REDIS_URL=redis.url,
        DATABASE_STATEMENT_TIMEOUT=str(STATEMENT_TIMEOUT),
        DATABASE_POOL_TIMEOUT=str(POOL_TIMEOUT),
        DATABASE_CONNECT_TIMEOUT="2",
        DATABASE_POOL_MAX_SIZE="4",
    )
    manage(project, venv, env, "migrate", "--noinput", "-v0")
    manage(project, venv, env, "collectstatic", "--noinput", "-v0")  # as the image does at build time
    superuser = env | {"DJANGO_SUPERUSER_PASSWORD": ADMIN[1]}
    manage(
        project, venv, superuser, "createsuperuser", "--noinput", "--username", ADMIN[0], "--email", "admin@example.com"
    )
    log = tmp_path_factory.mktemp("faults-app") / "app.log"
    with served_app(project, venv, env, log) as base:
        yield base
    lines = [line for line in log.read_text().splitlines() if not succeeded(line)]
    print("\nthe app's log, without successful requests:\n" + "\n".join(lines[-60:]))


def succeeded(line):
    """A log line about a request answered 200 or 302: an access log line or a request's metrics record."""
    return any(mark in line for mark in ('" 200', '" 302', '"StatusCode":200,', '"StatusCode":302,'))


def load(app):
    return Load(app, read_path="/notes/", readers=3, writers=1, admin=ADMIN)


def timed_get(url):
    """(status, seconds) of one GET that the load balancer forwarded over HTTPS."""
    started = time.monotonic()
    status, _, _ = http_get(url, timeout=30, headers={"X-Forwarded-Proto": "https"})
    return status, time.monotonic() - started


def report(name, records):
    for kind in ("read", "write", "login"):
        chosen = [record for record in records if record[2] == kind]
        if chosen:
            print(f"\n{name}: {len(chosen)} {kind} requests, statuses {status_counts(chosen)}")


def assert_written(postgres, titles):
    stored = set(postgres.sql("SELECT title FROM notes_note", database="app").splitlines())
    missing = [title for title in titles if title not in stored]
    print(f"acknowledged writes: {len(titles)}, missing: {len(missing)}")
    assert titles, "the load acknowledged no write at all"
    assert not missing


def assert_no_server_errors(records):
    errors = [record for record in records if record[3] == 500 or record[3] == 0]
    assert not errors, f"{len(errors)} requests failed with 500 or no answer: {status_counts(records)}"


def test_requests_succeed_from_the_first_one_after_a_postgresql_restart(app, services):
    postgres, _ = services
    # A burst grows every worker's pool to its maximum; the connections then sit idle in the pool.
    with Load(app, read_path="/notes/", readers=16, writers=0) as burst:
        burst.wait_for_requests(100)
    postgres.stop()
    postgres.start()
    # Every pooled connection is now dead. One request at a time first: alone, a request meets the dead
    # connections one after another, and psycopg_pool backs off between its checks (0, 1, 2 s ...).
    alone = [timed_get(app + "/notes/") for _ in range(6)]
    print("\none request at a time after the restart: " + ", ".join(f"{s} in {t:.2f} s" for s, t in alone))
    assert [status for status, _ in alone] == [200] * len(alone)
    # Then concurrent load, whose first requests may meet what dead connections are left.
    with load(app) as traffic:
        traffic.wait_for_requests(60)
        traffic.wait_for_requests(3, kind="write")
    first = sorted(traffic.records)[:30]
    report("the first 30 requests after the restart", first)
    report("after the restart", traffic.records)
    assert {status for *_, status in traffic.records} <= {200, 302}, status_counts(traffic.records)
    assert_written(postgres, traffic.acknowledged)


def test_requests_in_flight_during_a_restart_get_503_never_500(app, services):
    postgres, _ = services
    with load(app) as traffic:
        traffic.wait_for_requests(30)
        traffic.wait_for_requests(3, kind="write")
        down = time.monotonic()
        postgres.stop()
        postgres.start()
        up = time.monotonic()
        traffic.wait_for_requests(30)
    report("during the restart", traffic.between(down, up))
    assert_no_server_errors(traffic.records)
    assert_written(postgres, traffic.acknowledged)


def test_recovery_after_a_long_outage_takes_at_most_two_seconds(app, services):
    postgres, _ = services
    with load(app) as traffic:
        traffic.wait_for_requests(30)
        traffic.wait_for_requests(3, kind="write")
        down = time.monotonic()
        postgres.stop()
        # Uncapped, psycopg_pool's doubling back-off tries again about 1, 3, 7, 15 and 31 s after the first
        # failure: back after 20 s, the database would wait some 10 s for the next attempt.
        time.sleep(20)
        postgres.start()
        up = time.monotonic()
        traffic.wait_for_requests(60)
    during = traffic.between(down, up)
    report("during the 20 s outage", during)
    recovered = traffic.first_success_after(up)
    print(f"first success {recovered - up:.2f} s after PostgreSQL was back")
    assert_no_server_errors(traffic.records)
    assert {status for *_, status in during} <= {200, 302, 503}, status_counts(during)
    assert recovered - up <= RECOVERY_SECONDS
    assert_written(postgres, traffic.acknowledged)


def test_database_unavailable_answers_503_with_retry_after(app, services):
    postgres, _ = services
    postgres.stop()
    try:
        status, _, headers = http_get(app + "/notes/", timeout=30, headers={"X-Forwarded-Proto": "https"})
    finally:
        postgres.start()
    assert status == 503
    assert int(headers["Retry-After"]) > 0


def test_a_frozen_postgresql_answers_503_then_recovers(app, services):
    postgres, _ = services
    with load(app) as traffic:
        traffic.wait_for_requests(30)
        traffic.wait_for_requests(3, kind="write")
        postgres.freeze()
        frozen = time.monotonic()
        time.sleep(6)
        postgres.thaw()
        thawed = time.monotonic()
        traffic.wait_for_requests(60)
    report("while PostgreSQL was frozen", traffic.between(frozen, thawed))
    recovered = traffic.first_success_after(thawed)
    print(f"first success {recovered - thawed:.2f} s after PostgreSQL was thawed")
    assert_no_server_errors(traffic.records)
    assert recovered - thawed <= RECOVERY_SECONDS
    assert_written(postgres, traffic.acknowledged)


def test_a_held_table_lock_gives_503_within_the_timeouts_not_a_hang(app, services):
    postgres, _ = services
    holder = threading.Thread(
        target=postgres.sql,
        args=("BEGIN; LOCK TABLE notes_note IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;", "app"),
    )
    with load(app) as traffic:
        traffic.wait_for_requests(30)
        traffic.wait_for_requests(3, kind="write")
        locked = time.monotonic()
        holder.start()
        time.sleep(1)
        status, _, headers = http_get(app + "/notes/", timeout=30, headers={"X-Forwarded-Proto": "https"})
        holder.join()
        released = time.monotonic()
        traffic.wait_for_requests(30)
        traffic.wait_for_requests(3, kind="write")
    during = traffic.between(locked, released)
    report("while a lock was held", during)
    longest = max(ended - started for started, ended, *_ in during)
    print(f"longest request while locked: {longest:.2f} s")
    assert_no_server_errors(traffic.records)
    assert status == 503
    assert int(headers["Retry-After"]) > 0
    assert 503 in {record[3] for record in during}
    # A request waits for a lock at most the statement timeout, for a pooled connection at most the pool
    # timeout: never the 8 s the lock is held.
    assert longest < STATEMENT_TIMEOUT + POOL_TIMEOUT + 2
    assert_written(postgres, traffic.acknowledged)


def test_concurrent_readiness_probes_never_collide(app):
    results = []

    def probe():
        for _ in range(40):
            results.append(http_json(app + "/readyz", timeout=10))

    probes = [threading.Thread(target=probe) for _ in range(8)]
    for thread in probes:
        thread.start()
    for thread in probes:
        thread.join()
    caches = [body["checks"]["cache"] for _, body in results]
    print(f"\n8 concurrent probers: statuses {status_counts([(0, 0, '', s) for s, _ in results])}")
    print(f"cache check failures: {len(caches) - caches.count('ok')} of {len(caches)}")
    # Each probe's write is read back intact, however many probes share the Redis. (The database check may
    # still wait out this module's deliberately small pool.)
    assert caches == ["ok"] * 320


@pytest.mark.parametrize("fault", ["stopped", "frozen"])
def test_a_redis_outage_breaks_no_page_session_or_write(app, services, fault):
    postgres, redis = services
    with load(app) as traffic:
        traffic.wait_for_requests(20)
        start = time.monotonic()
        redis.stop() if fault == "stopped" else redis.freeze()
        try:
            traffic.wait_for_requests(20)
            traffic.wait_for_requests(5, kind="write")
            status, body = http_json(app + "/readyz", timeout=30)
        finally:
            redis.start() if fault == "stopped" else redis.thaw()
        end = time.monotonic()
        traffic.wait_for_requests(20)
    during = traffic.between(start, end)
    report(f"while Redis was {fault}", during)
    assert_no_server_errors(traffic.records)
    assert {s for *_, s in during} <= {200, 302}, status_counts(during)
    assert status == 503
    assert body["failed"] == ["cache"]
    assert http_json(app + "/readyz", timeout=30) == (
        200,
        {"status": "ok", "failed": [], "checks": {"database": "ok", "cache": "ok"}},
    )
    assert_written(postgres, traffic.acknowledged)
