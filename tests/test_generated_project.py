"""Each combination's own suite passes in a fresh virtualenv of its chosen Python, on real PostgreSQL and Redis."""

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from project import COMBOS, combo_id, make_venv, run
from services import (
    REDIS_URL,
    free_port,
    http_get,
    postgres_database_url,
    require_shared_services,
    run_unique,
    wait_for_http,
)


@pytest.fixture(scope="module", params=COMBOS, ids=combo_id)
def project(request, generated):
    """A rendered combination with its own virtualenv and its own database name and cache prefix."""
    require_shared_services()
    combo = request.param
    path = generated(**combo)
    venv = make_venv(path, combo["python_version"])
    name = run_unique("t_" + re.sub(r"\W", "_", combo_id(combo)))
    env = {
        # Nothing of the outer run leaks in: no settings, and no MAKEFLAGS/MAKELEVEL from an outer `make test`.
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "MAKE", "MFLAGS"))
        },
        "DATABASE_URL": postgres_database_url(name),
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": name,
        # As in CI and in the image: no local .env, so the suite cannot lean on its DEBUG=true.
        "DOTENV_PATH": str(path / "absent.env"),
    }
    return {"combo": combo, "path": path, "venv": venv, "env": env}


def make(project, target, **env):
    """A target of the generated Makefile: the commands its README documents and its CI runs."""
    return run(["make", target, f"VENV={project['venv']}"], cwd=project["path"], env=project["env"] | env)


def test_virtualenv_runs_the_chosen_python(project):
    version = run([project["venv"] / "bin/python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    assert version.stdout.strip() == project["combo"]["python_version"]


@pytest.fixture(scope="module")
def suite(project):
    """The project's own suite, run once per combination through `make test` (pass or fail: the tests judge)."""
    make_test = ["make", "test", f"VENV={project['venv']}", "ARGS=-p no:cacheprovider -q"]
    return run(make_test, cwd=project["path"], env=project["env"], check=False)


def test_own_suite_passes_on_postgresql_and_redis(suite):
    summary = [line for line in suite.stdout.splitlines() if re.search(r" in [\d.]+s", line)][-1]
    # Nothing failed, errored or was skipped: only "N passed in Xs" is accepted.
    assert re.fullmatch(r"\d+ passed in [\d.]+s( \([\d:]+\))?", summary), suite.stdout[-3000:]


def test_own_suite_leaves_no_keys_in_redis(project, suite):
    """The suite runs on the shared Redis: whatever it caches (readiness probes, sessions) is gone afterwards."""
    prefix = project["env"]["CACHE_KEY_PREFIX"]
    python = project["venv"] / "bin" / "python"
    keys = run([python, "-c", f"import redis; print(redis.from_url({REDIS_URL!r}).keys('*{prefix}*'))"])
    assert keys.stdout.strip() == "[]"


def test_make_install_writes_a_missing_env_with_a_fresh_key(project, tmp_path):
    """A teammate's clone has no .env (it is git-ignored): make install writes one from .env.example."""
    clone = tmp_path / "clone"
    shutil.copytree(project["path"], clone, ignore=shutil.ignore_patterns(".env"))
    # The suite's virtualenvs are uv's (no pip), so install's own step is shown, not run; the .env step is run.
    plan = run(["make", "-n", "install", f"VENV={project['venv']}"], cwd=clone, env=project["env"]).stdout
    assert ".env.example > .env" in plan
    run(["make", ".env"], cwd=clone, env=project["env"])
    dotenv = (clone / ".env").read_text()
    key = re.search(r"^SECRET_KEY=(.+)$", dotenv, re.MULTILINE).group(1)
    assert len(key) >= 50
    assert key not in (project["path"] / ".env").read_text()
    assert dotenv.replace(key, "replace-me-run-make-secret") == (clone / ".env.example").read_text()
    assert (clone / ".env").stat().st_mode & 0o777 == 0o600
    plan = run(["make", "-n", "install", f"VENV={project['venv']}"], cwd=clone, env=project["env"]).stdout
    assert ".env" not in plan, "an existing .env is kept"


def test_make_db_creates_the_database_of_database_url(project):
    name = run_unique("makedb")
    env = {"DATABASE_URL": postgres_database_url(name), "DEBUG": "true"}  # a developer's settings
    python = project["venv"] / "bin" / "python"
    exists = f"import psycopg; psycopg.connect({postgres_database_url(name)!r}).close()"
    try:
        make(project, "db", **env)
        run([python, "-c", exists])
        assert "exists" in make(project, "db", **env).stdout, "a second run says the database is there"
    finally:
        drop = f'DROP DATABASE IF EXISTS "{name}"'
        script = (
            f"import psycopg; psycopg.connect({postgres_database_url('postgres')!r}, autocommit=True).execute({drop!r})"
        )
        run([python, "-c", script])


def test_make_help_shows_the_port_run_serves_on(project):
    assert "http://127.0.0.1:8000" in make(project, "help").stdout
    shown = make(project, "help", PORT="8123").stdout
    assert "http://127.0.0.1:8123" in shown
    assert "$(PORT)" not in shown


def test_make_lock_needs_only_the_dev_requirements(project, tmp_path):
    """A fresh clone after make install: uv comes from the virtualenv, not from the machine."""
    clone = tmp_path / "clone"
    shutil.copytree(project["path"], clone)
    path = ":".join(d for d in project["env"]["PATH"].split(":") if not (Path(d) / "uv").exists())
    make_lock = ["make", "lock", f"VENV={project['venv']}"]
    run(make_lock, cwd=clone, env=project["env"] | {"PATH": path, "UV_NATIVE_TLS": "1"}, timeout=600)
    for name in ("requirements.txt", "requirements-dev.txt"):
        assert "\ndjango==" in (clone / name).read_text(), name
    # Without a virtualenv yet, make lock installs one first.
    plan = run(["make", "-n", "lock", f"VENV={tmp_path / 'none'}"], cwd=clone, env=project["env"]).stdout
    assert plan.splitlines()[0].endswith("make install"), plan


def test_models_and_migrations_agree(project):
    # A developer's settings: DEBUG from their .env.
    make(project, "migrations-check", DEBUG="true")


def test_deploy_checks_pass_with_production_values(project):
    production = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "app.example.com"}
    assert "no issues" in make(project, "check-deploy", **production).stdout


def test_static_files_under_gunicorn_and_uvicorn_workers_log_no_streaming_warning(project, tmp_path):
    """Collected static files served by the production server, as the image serves them, with a clean log."""
    app = tmp_path / "app"  # a copy, so collectstatic leaves the shared rendered project untouched
    shutil.copytree(project["path"], app)
    port = free_port()
    env = project["env"] | {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "PYTHONWARNINGS": "default",
    }
    python = project["venv"] / "bin" / "python"
    run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=app, env=env)
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [python, "-m", "gunicorn", "config.asgi:application"], cwd=app, env=env, stdout=output, stderr=output
        )
        try:
            https = {"X-Forwarded-Proto": "https"}
            wait_for_http(f"http://127.0.0.1:{port}/healthz", process=server)
            for _ in range(3):
                status, body, headers = http_get(f"http://127.0.0.1:{port}/static/admin/css/base.css", headers=https)
                assert status == 200, body[:300]
                assert b"body" in body
                assert "max-age" in headers.get("Cache-Control", "")
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = log.read_text()
    assert "uvicorn_worker" in text or "Booting worker" in text, text  # the log is the server's
    assert "StreamingHttpResponse must consume synchronous iterators" not in text, text
