"""Each combination's own suite passes in a fresh virtualenv of its chosen Python, on real PostgreSQL and Redis."""

import os
import re
import secrets

import pytest
from project import COMBOS, combo_id, make_venv, run
from services import REDIS_URL, postgres_database_url, require_shared_services, run_unique


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
