"""Every claim of the template README that a user acts on is checked here."""

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess

from project import CONTEXT, TEMPLATE, run
from services import free_port, http_get, wait_for_http

README = (TEMPLATE / "README.md").read_text()


def test_options_table_lists_every_option_with_its_default():
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", README.split("## Options")[1], flags=re.MULTILINE))
    public = {name: value for name, value in CONTEXT.items() if not name.startswith("_")}
    assert set(rows) == set(public)
    for name, value in public.items():
        default = value[0] if isinstance(value, list) else value
        if "{{" not in default:
            assert rows[name].strip() == f"`{default}`", name


def test_readme_says_how_to_use_a_fork_instead_of_a_placeholder():
    assert "gh:org/" not in README
    assert "github.com/org/" not in README
    assert "gh:<owner>/django-aws-template" in README
    assert "cruft create https://github.com/<owner>/django-aws-template" in README
    # An existing project follows another copy of the template through the "template" field of .cruft.json.
    assert '"template"' in README


def test_system_deps_without_root_names_what_is_missing_and_how_to_install_it():
    """Where there is no sudo: one message naming the packages, not apt-get's permission errors."""
    # On PATH for a user who cannot enter pytest's private temporary directories, so it lives in the repository.
    stand_in = TEMPLATE / "tests" / "stand_ins" / "nothing-installed"
    unprivileged = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if os.geteuid() == 0 else []
    result = run(
        [*unprivileged, "bash", TEMPLATE / ".ci" / "install-system-deps.sh"],
        env={"PATH": f"{stand_in}:/usr/bin:/bin", "HOME": "/"},
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("missing Debian packages: make git nodejs")
    assert "as root" in line
    assert "skip" in line
    assert "as root" in README
    assert "sudo make system-deps" not in README


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"^(make \w+)\s+#", README, flags=re.MULTILINE)
    assert "make test" in commands
    assert "make test" in (TEMPLATE / ".ci" / "run").read_text().splitlines()


def start_demo(demo, port, env):
    return subprocess.Popen(
        ["make", "demo", f"DEMO={demo}", f"PORT={port}"],
        cwd=TEMPLATE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop(server):
    """Stop the demo as a user would (Ctrl-C reaches the whole process group); returns what it printed."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    return server.stdout.read()


def test_make_demo_serves_a_project_says_where_it_is_and_keeps_its_database_until_demo_clean(tmp_path):
    port = free_port()
    demo = tmp_path / "demo"
    project = demo / "my_project"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "DJANGO_", "MAKE"))}
    server = start_demo(demo, port, env)
    try:
        status, body, _ = wait_for_http(f"http://127.0.0.1:{port}/readyz", seconds=300, process=server)
        assert (status, json.loads(body)) == (
            200,
            {"status": "ok", "failed": [], "checks": {"database": "ok", "cache": "ok"}},
        )
        status, body, _ = http_get(f"http://127.0.0.1:{port}/")
        assert "Notes" in body.decode()
        assert (project / "db.sqlite3").exists(), "the embedded default is SQLite"
    finally:
        output = stop(server)
    assert f"The demo project is in {project}" in output
    assert f"cd {project} && .venv/bin/python manage.py createsuperuser" in output
    assert f"http://127.0.0.1:{port}/admin/" in output
    assert "Ctrl-C stops it" in output
    with sqlite3.connect(project / "db.sqlite3") as db:
        db.execute("INSERT INTO notes_note (title, body, created_at) VALUES ('kept', '', '2026-01-01')")

    server = start_demo(demo, port, env)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/readyz", seconds=300, process=server)
        status, body, _ = http_get(f"http://127.0.0.1:{port}/")
        assert "kept" in body.decode(), "a second make demo kept the first one's database"
    finally:
        stop(server)

    run(["make", "demo-clean", f"DEMO={demo}"], cwd=TEMPLATE, env=env)
    assert not demo.exists()
