"""cookiecutter-django's generated project as a site of the web benchmark, built from a copy the user names.

Nothing of cookiecutter-django is kept here: the user passes a checkout or git directory of it
(`bench/run.py web --cookiecutter-django PATH`), and this module renders it into the harness's scratch directory,
installs its production requirements, and serves it on its production settings with the benchmark's two views
(bench/bare/views.py, the bare app's code) mounted through a settings and URL module written into that rendering.
Whatever stops it is raised as Unavailable, one line that the results print in place of its rows.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from common import TEMPLATE
from project import python_executable, run, tool, uv_env

BARE_VIEWS = TEMPLATE / "bench" / "bare" / "views.py"
SITE = "cookiecutter-django"
PYTHON = "3.12"
# Choices that need no cloud service and no key, and give the uvicorn worker path (use_async).
ANSWERS = {
    "project_name": "Bench CCD",
    "use_docker": "n",
    "use_heroku": "n",
    "use_async": "y",
    "use_whitenoise": "y",
    "cloud_provider": "None",
    "mail_service": "Other SMTP",
    "use_sentry": "n",
    "use_celery": "n",
    "rest_api": "None",
    "frontend_pipeline": "None",
    "ci_tool": "None",
}
SLUG = "bench_ccd"
# The production settings plus the benchmark's URLs; everything else (middleware, cache, security) as generated.
SETTINGS = """from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "config.bench_urls"
"""
URLS = """from django.urls import path

from config import bench_views
from config.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("healthz", bench_views.healthz), path("readyz", bench_views.readyz), *site_urlpatterns]
"""


class Unavailable(Exception):
    """cookiecutter-django cannot be served here; the message is the one line that says why."""


def last_line(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def checked(args, what, **kwargs):
    result = run(args, check=False, **kwargs)
    if result.returncode != 0:
        raise Unavailable(f"{what} failed: {last_line(result.stderr + result.stdout)}")
    return result


def source(path, work):
    """A directory holding cookiecutter.json: PATH itself (a checkout) or its HEAD exported (a git directory)."""
    path = Path(path).resolve()
    if (path / "cookiecutter.json").exists():
        return path
    if not (path / "HEAD").exists() or not (path / "objects").exists():
        raise Unavailable(f"{path} is neither a cookiecutter-django checkout nor a git directory")
    target = work / "cookiecutter-django-source"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "--git-dir", str(path), "archive", "HEAD"], capture_output=True, check=False)
    if archive.returncode != 0:
        raise Unavailable(f"git archive HEAD of {path} failed: {last_line(archive.stderr.decode(errors='replace'))}")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    if not (target / "cookiecutter.json").exists():
        raise Unavailable(f"{path} holds no cookiecutter.json at HEAD")
    return target


def render(template, work, notes):
    """`cookiecutter --no-input` with ANSWERS. Its post-generation hook ends by moving requirements/ into
    pyproject.toml with `uv add`, which needs the Python its pyproject.toml asks for; where that Python is absent,
    the hook's earlier steps (removing the files of unchosen options) are done and the rendering is kept."""
    output = work / "cookiecutter-django"
    shutil.rmtree(output, ignore_errors=True)
    uv_dir = str(Path(tool("uv")).parent)
    env = {**uv_env(), "PATH": uv_dir + os.pathsep + os.environ.get("PATH", ""), "UV_PYTHON_DOWNLOADS": "never"}
    args = [tool("cookiecutter"), "--no-input", "--keep-project-on-failure", "-o", output, template]
    result = run([*args, *(f"{name}={value}" for name, value in ANSWERS.items())], check=False, env=env)
    project = output / SLUG
    if not (project / "config" / "settings" / "production.py").exists():
        raise Unavailable(f"cookiecutter --no-input failed: {last_line(result.stderr + result.stdout)}")
    if result.returncode != 0:
        if not (project / "requirements" / "production.txt").exists():
            raise Unavailable(f"its post-generation hook failed: {last_line(result.stderr + result.stdout)}")
        reason = next((line.strip() for line in result.stderr.splitlines() if "interpreter" in line.lower()), "")
        reason = reason or last_line(result.stderr + result.stdout)
        notes.append(
            f"{SITE}: its post-generation hook's last step (`uv add -r requirements/production.txt`) failed here"
            f" ({reason}); the rendering is kept and requirements/production.txt installed"
        )
    return project


def make_venv(project, work, notes):
    """A Python 3.12 virtualenv with the production requirements; psycopg[c] becomes psycopg[binary] of the same
    version only when it cannot be built here."""
    venv = work / "cookiecutter-django-venv"
    shutil.rmtree(venv, ignore_errors=True)
    uv = tool("uv")
    try:
        python = python_executable(PYTHON)
    except pytest.skip.Exception as missing:  # what the test helper says is missing, as one line
        raise Unavailable(str(missing)) from None
    checked([uv, "venv", "--quiet", "--python", python, venv], "uv venv", env=uv_env())
    requirements = project / "requirements" / "production.txt"
    if not requirements.exists():  # the hook completed: the requirements are pyproject.toml's dependencies
        requirements = project / "pyproject.toml"
    install = [uv, "pip", "install", "--quiet", "--python", venv / "bin/python", "-r"]
    result = run([*install, requirements], check=False, env=uv_env(), timeout=1800)
    if result.returncode == 0:
        return venv
    text = requirements.read_text()
    if not re.search(r"psycopg\[c\]", text):
        raise Unavailable(f"installing its production requirements failed: {last_line(result.stderr)}")
    substituted = requirements.with_name("production-bench.txt")
    substituted.write_text(re.sub(r"psycopg\[c\]", "psycopg[binary]", text))
    checked([*install, substituted], "installing its production requirements", env=uv_env(), timeout=1800)
    notes.append(f"{SITE}: psycopg[c] could not be built here; psycopg[binary] of the same version was installed")
    return venv


def prepare(path, work, notes):
    """Render and install; returns (project, venv). Raises Unavailable."""
    project = render(source(path, work), work, notes)
    venv = make_venv(project, work, notes)
    (project / "config" / "settings" / "bench.py").write_text(SETTINGS)
    (project / "config" / "bench_urls.py").write_text(URLS)
    shutil.copy(BARE_VIEWS, project / "config" / "bench_views.py")
    return project, venv


def environment(database_url, redis_url):
    """What its production settings demand (and a mail backend that needs no key: SMTP, never used here), and
    CONN_MAX_AGE=0 (see BENCHMARKS.md)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "POSTGRES_"))}
    return kept | {
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DJANGO_SECRET_KEY": "bench-only-not-secret-" + "x" * 40,
        "DJANGO_ADMIN_URL": "admin/",
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Its default (60 s) under ASGI keeps one connection per request thread until it expires, which exhausts
        # the shared server's max_connections within a run; Django's docs ask for 0 under ASGI, through the
        # variable its production settings read.
        "CONN_MAX_AGE": "0",
    }


def migrate(project, venv, env):
    python = venv / "bin/python"
    checked([python, "manage.py", "migrate", "--noinput"], "manage.py migrate", cwd=project, env=env)
    checked([python, "manage.py", "collectstatic", "--noinput"], "manage.py collectstatic", cwd=project, env=env)
