"""Every claim of the template README that a user acts on is checked here."""

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

from conftest import CONTEXT, TEMPLATE

README = (TEMPLATE / "README.md").read_text()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() < deadline, "make demo did not serve within 5 minutes"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    ready = json.load(response)
                break
            except OSError:
                time.sleep(1)
        assert ready == {"status": "ok", "failed": [], "checks": {"database": "ok", "cache": "ok"}}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert "Notes" in response.read().decode()
        assert (demo / "my_project" / "db.sqlite3").exists(), "the embedded default is SQLite"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
