"""Template: render time of the default combination, and the template test suite's wall time, cold and warm.

Cold: every download and build cache the suite keeps (DJANGO_AWS_TEMPLATE_CACHE: wheels, provider schema,
base images) starts empty. Warm: the same run again on the cache the cold run filled.
"""

import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from common import TEMPLATE
from project import DEFAULT, render


def render_seconds(repeats):
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as output:
            started = time.monotonic()
            render(output, **DEFAULT)
            times.append(time.monotonic() - started)
    return times


def suite(args, cache):
    """Wall seconds and pytest's summary line of one run of the template suite with CACHE as its cache."""
    env = {**os.environ, "DJANGO_AWS_TEMPLATE_CACHE": str(cache)}
    command = [sys.executable, "-m", "pytest", "-q", *shlex.split(args)]
    started = time.monotonic()
    result = subprocess.run(command, cwd=TEMPLATE, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    summary = [line for line in result.stdout.splitlines() if re.search(r" in [\d.]+s", line)]
    return {"seconds": seconds, "exit": result.returncode, "summary": summary[-1] if summary else result.stderr[-500:]}


def measure(options):
    renders = render_seconds(max(options.repeats, 3))
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as empty:
        cold = suite(options.suite_args, empty)
        warm = suite(options.suite_args, empty)
    scope = options.suite_args or "the whole suite"
    rows = [
        {
            "measure": "render, default combination (median)",
            "value": f"{statistics.median(renders):.2f} s",
            "raw": renders,
        },
        {"measure": f"suite, cold cache ({scope})", "value": f"{cold['seconds']:.1f} s", "raw": cold},
        {"measure": f"suite, warm cache ({scope})", "value": f"{warm['seconds']:.1f} s", "raw": warm},
    ]
    notes = [f"suite runs: cold `{cold['summary']}`, warm `{warm['summary']}`"]
    if cold["exit"] or warm["exit"]:
        notes.append(f"the suite did not pass (exit {cold['exit']} cold, {warm['exit']} warm): see the summaries")
    return {"settings": {"suite arguments": options.suite_args or "(none: every test)"}, "rows": rows, "notes": notes}


def markdown(result):
    lines = ["| measure | result |", "| --- | ---: |"]
    lines += [f"| {row['measure']} | {row['value']} |" for row in result["rows"]]
    return "\n".join(lines)
