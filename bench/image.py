"""Image: size, cold build, rebuild after a source-only edit, seconds from `docker run` to a healthy web role.

The engine and the stand-in python:X.Y-slim base come from tests/docker_harness.py (no image registry is
reachable here). When no engine is running, a private dockerd with fresh state is started, so the first build
is cold, pip downloads included; on an engine that was already running, BuildKit's pip cache mount may be warm
and the result says so.
"""

import json
import secrets
import shutil
import statistics
import time
import urllib.request
from pathlib import Path

from docker_harness import engine, ensure_base_image
from project import DEFAULT, render
from services import REDIS_URL, free_port, postgres_database_url


def build(docker, context, tag):
    started = time.monotonic()
    docker("build", "--network", "host", "--no-cache", "--progress", "plain", "--tag", tag, context)
    return time.monotonic() - started


def rebuild(docker, context, tag):
    started = time.monotonic()
    docker("build", "--network", "host", "--progress", "plain", "--tag", tag, context)
    return time.monotonic() - started


def start_to_healthy(docker, ref, seconds=120):
    """Seconds from `docker run` to the first 200 from /healthz (what the image's HEALTHCHECK asks)."""
    port = free_port()
    env = {
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "localhost",
        "PORT": port,
        "DATABASE_URL": postgres_database_url("postgres"),
        "REDIS_URL": REDIS_URL,
    }
    env_args = [arg for name, value in env.items() for arg in ("--env", f"{name}={value}")]
    started = time.monotonic()
    container = docker("run", "--detach", "--network", "host", *env_args, ref, "web").stdout.strip()
    try:
        while time.monotonic() - started < seconds:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the web role was not healthy within {seconds} s:\n{docker('logs', container).stderr}")
    finally:
        docker("rm", "--force", container, check=False)


def measure(options):
    work = Path(options.work) / "image"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    project = render(work, **DEFAULT)
    with engine() as docker:
        fresh_engine = "dat-dockerd-" in docker.host
        base = ensure_base_image(docker, DEFAULT["python_version"])
        tag = f"dat-bench-{secrets.token_hex(3)}"
        cold = build(docker, project, f"{tag}:cold")
        size = json_inspect(docker, f"{tag}:cold")["Size"]
        base_size = json_inspect(docker, base)["Size"]
        views = next(project.glob("*/notes/views.py"))
        rebuilds = []
        for n in range(options.repeats):
            views.write_text(views.read_text() + f"\n# a source-only edit {n}\n")
            rebuilds.append(rebuild(docker, project, f"{tag}:edited"))
        healthy = [start_to_healthy(docker, f"{tag}:cold") for _ in range(options.repeats)]
        docker("image", "rm", f"{tag}:cold", f"{tag}:edited", check=False)
    rebuild_median = statistics.median(rebuilds)
    rows = [
        {"measure": "image size", "value": f"{size / 1e6:.1f} MB", "target": "", "raw": size},
        {"measure": "stand-in base image", "value": f"{base_size / 1e6:.1f} MB", "target": "", "raw": base_size},
        {"measure": "cold build", "value": f"{cold:.1f} s", "target": "", "raw": cold},
        {
            "measure": "source-only rebuild (median)",
            "value": f"{rebuild_median:.1f} s ({rebuild_median / cold:.0%} of cold)",
            "target": "≤ 15% of cold",
            "raw": rebuilds,
        },
        {
            "measure": "start to healthy (median)",
            "value": f"{statistics.median(healthy):.2f} s",
            "target": "≤ 3 s",
            "raw": healthy,
        },
    ]
    settings = {
        "combination": "python_version={python_version}-async_consumer={async_consumer}".format(**DEFAULT),
        "engine": "private dockerd, fresh state (cold build includes pip downloads)"
        if fresh_engine
        else f"already running at {docker.host} (pip cache mount may be warm)",
        "repeats": options.repeats,
    }
    return {"settings": settings, "rows": rows, "notes": []}


def json_inspect(docker, ref):
    return json.loads(docker("image", "inspect", ref).stdout)[0]


def markdown(result):
    lines = ["| measure | result | target |", "| --- | ---: | --- |"]
    lines += [f"| {row['measure']} | {row['value']} | {row['target']} |" for row in result["rows"]]
    return "\n".join(lines)
