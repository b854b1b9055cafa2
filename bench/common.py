"""What every benchmark part shares: the template's paths, its test helpers (tests/project.py, services.py)
on sys.path, and how a part says that what it would measure is not on this branch yet."""

import subprocess
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent
SOURCE = TEMPLATE / "{{cookiecutter.project_slug}}"
RESULTS = TEMPLATE / ".cache" / "bench"
sys.path.insert(0, str(TEMPLATE / "tests"))


def not_yet(what, found):
    """A note for the results: WHAT is measured when FOUND (a path or None) exists."""
    if found:
        return f"{what}: available ({found}) but not wired into this harness yet"
    return f"{what}: not yet (not on this branch)"


def observability_middleware():
    """The generated project's EMF metrics middleware, once it exists."""
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(errors="replace")
        if "Middleware" in text and ("aws_embedded_metrics" in text or "EMF" in text):
            return path.relative_to(TEMPLATE)
    return None


def machine():
    """Where the numbers came from: CPUs, load, kernel, Python, git commit."""
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    commit = subprocess.run(["git", "-C", str(TEMPLATE), "rev-parse", "HEAD"], capture_output=True, text=True)
    cpus = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return {
        "cpus": cpus,
        "load_average_at_start": " ".join(load),
        "kernel": subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip(),
        "python (harness)": sys.version.split()[0],
        "commit": commit.stdout.strip(),
    }
