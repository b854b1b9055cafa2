"""The template and what it generates: paths, option combinations, rendering, commands and virtualenvs.

Every test module imports its helpers from here or from services.py; conftest.py only holds fixtures.
"""

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
SOURCE = TEMPLATE / "{{cookiecutter.project_slug}}"
# Downloads and builds kept across runs and clones (wheels, provider schema, checkov, actionlint, base images).
SHARED_CACHE = Path(os.environ.get("DJANGO_AWS_TEMPLATE_CACHE", Path.home() / ".cache" / "django-aws-template"))
CONTEXT = json.loads((TEMPLATE / "cookiecutter.json").read_text())
CHOICES = {name: value for name, value in CONTEXT.items() if isinstance(value, list) and not name.startswith("_")}
COMBOS = [dict(zip(CHOICES, values, strict=True)) for values in itertools.product(*CHOICES.values())]
DEFAULT = COMBOS[0]  # the first choice of every option
PYTHONS = {"3.12": "3.12.1", "3.13": "3.13.0"}
IN_CI = os.environ.get("CI", "").lower() == "true"


def combo_id(combo):
    """Test ids that read like sentences: python_version=3.13-async_consumer=celery."""
    return "-".join(f"{name}={value}" for name, value in combo.items())


def require(condition, what):
    """A missing tool or service fails under CI=true and skips (saying what is missing) elsewhere.

    Only for what the machine provides: a file the repository must contain is asserted, never required.
    """
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} (CI=true: a missing tool or service is a failure)")
    pytest.skip(what)  # only outside CI


def run(args, cwd=None, env=None, check=True, timeout=900):
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def render(output_dir, **answers):
    """Render the template without prompts; returns the generated project's directory."""
    path = cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output_dir))
    return Path(path)


def python_executable(version):
    """The interpreter for a supported python_version choice, from pyenv."""
    prefix = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions" / PYTHONS[version]
    executable = prefix / "bin" / f"python{version}"
    require(executable.exists(), f"python{version} is not installed at {executable} (pyenv install {PYTHONS[version]})")
    return executable


def tool(name):
    """A command installed beside the running Python (the template's .venv), else from PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    require(found is not None, f"{name} is not installed (pip install -r requirements-dev.txt)")
    return found


def uv_env():
    # One wheel cache for every virtualenv the suite builds, shared across clones; TLS through the system CA bundle.
    return {**os.environ, "UV_CACHE_DIR": str(SHARED_CACHE / "uv"), "UV_NATIVE_TLS": "1", "UV_NO_PROGRESS": "1"}


def make_venv(project, version):
    """The generated project's virtualenv of its chosen Python, with requirements-dev.txt; made once per project."""
    venv = project.parent / "venv"  # beside the project, so it never shows up among the generated files
    if (venv / ".installed").exists():
        return venv
    uv = tool("uv")
    run([uv, "venv", "--quiet", "--python", python_executable(version), venv], env=uv_env())
    run(
        [uv, "pip", "install", "--quiet", "--python", venv / "bin/python", "-r", project / "requirements-dev.txt"],
        env=uv_env(),
    )
    (venv / ".installed").touch()
    return venv


def production_env(project, **settings):
    """The environment a generated project is served with in tests: production defaults (DEBUG off) and nothing
    from the outer run but PATH-like variables; SETTINGS add the services and overrides."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "MAKE", "MFLAGS", "AWS_", "WEB_", "GUNICORN_"))
    }
    return kept | {
        "SECRET_KEY": "served-in-tests-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DOTENV_PATH": str(project / "absent.env"),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
        **settings,
    }


def manage(project, venv, env, *args):
    """python manage.py ARGS in the generated project with ENV."""
    return run([venv / "bin/python", "manage.py", *args], cwd=project, env=env)
