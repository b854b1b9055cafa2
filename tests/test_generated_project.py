"""Each combination's own suite passes in a fresh virtualenv of its chosen Python, on real PostgreSQL and Redis."""

import os
import re
import secrets
import socket

import pytest
from conftest import COMBOS, combo_id, make_venv, require, run

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def services_up():
    def reachable(url, port):
        host = re.search(r"//(?:[^@/]*@)?([^:/]+)", url).group(1)
        with socket.socket() as sock:
            sock.settimeout(2)
            return sock.connect_ex((host, port)) == 0

    require(reachable(POSTGRES, 5432), f"PostgreSQL is not reachable at {POSTGRES}")
    require(reachable(REDIS, 6379), f"Redis is not reachable at {REDIS}")


@pytest.fixture(scope="module", params=COMBOS, ids=combo_id)
def project(request, generated):
    """A rendered combination with its own virtualenv and its own database name and cache prefix."""
    services_up()
    combo = request.param
    path = generated(**combo)
    venv = make_venv(path, combo["python_version"])
    name = "t_" + re.sub(r"\W", "_", combo_id(combo)).lower()
    env = {
        # Nothing of the outer run leaks in: no settings, and no MAKEFLAGS/MAKELEVEL from an outer `make test`.
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "MAKE", "MFLAGS"))
        },
        "DATABASE_URL": f"{POSTGRES}/{name}",
        "REDIS_URL": REDIS,
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


def test_own_suite_passes_on_postgresql_and_redis(project):
    result = make(project, "test", ARGS="-p no:cacheprovider -q")
    summary = [line for line in result.stdout.splitlines() if re.search(r" in [\d.]+s", line)][-1]
    # Nothing failed, errored or was skipped: only "N passed in Xs" is accepted.
    assert re.fullmatch(r"\d+ passed in [\d.]+s( \([\d:]+\))?", summary), summary


def test_models_and_migrations_agree(project):
    # A developer's settings: DEBUG from their .env.
    make(project, "migrations-check", DEBUG="true")


def test_deploy_checks_pass_with_production_values(project):
    production = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "app.example.com"}
    assert "no issues" in make(project, "check-deploy", **production).stdout
