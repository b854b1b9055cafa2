"""Every claim of the template README that a user acts on is checked here."""

import json
import os
import re
import signal
import subprocess

from project import CONTEXT, TEMPLATE
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


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"^(make \w+)\s+#", README, flags=re.MULTILINE)
    assert commands == ["make demo", "make test"]
    assert "make test" in (TEMPLATE / ".ci" / "run").read_text().splitlines()


def test_make_demo_generates_a_project_and_serves_it_on_the_embedded_default(tmp_path):
    port = free_port()
    demo = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "DJANGO_"))}
    server = subprocess.Popen(
        ["make", "demo", f"DEMO={demo}", f"PORT={port}"],
        cwd=TEMPLATE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        status, body, _ = wait_for_http(f"http://127.0.0.1:{port}/readyz", seconds=300, process=server)
        assert (status, json.loads(body)) == (
            200,
            {"status": "ok", "failed": [], "checks": {"database": "ok", "cache": "ok"}},
        )
        status, body, _ = http_get(f"http://127.0.0.1:{port}/")
        assert "Notes" in body.decode()
        assert (demo / "my_project" / "db.sqlite3").exists(), "the embedded default is SQLite"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
