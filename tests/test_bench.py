"""The benchmark harness works: a smoke pass of its web part runs to the end and writes its results.

Only that the harness runs is checked (every site and path answered, without a failed request); its numbers
are never compared with anything here: they mean something only on a quiet machine (`make bench`).
"""

import json
import shutil
import sys

from project import TEMPLATE, require, run
from services import require_shared_services


def test_web_smoke_pass_serves_every_site_and_path_and_writes_its_results(tmp_path):
    require(shutil.which("wrk") is not None, "wrk is not installed (make system-deps)")
    require_shared_services()
    command = [sys.executable, TEMPLATE / "bench" / "run.py", "web", "--smoke", "--results", tmp_path]
    run(command, cwd=TEMPLATE, timeout=1800)
    results = json.loads((tmp_path / "latest.json").read_text())
    assert results["smoke"] is True
    web = results["parts"]["web"]
    assert "error" not in web, web.get("error")
    rows = {(row["site"], row["path"]): row for row in web["rows"]}
    sites = {"generated", "bare", "bare+pool", "generated, EMF off"}
    expected = {(site, path) for site in sites for path in ("/healthz", "/readyz")}
    expected |= {("generated", "/notes/"), ("generated, EMF off", "/notes/")}
    assert set(rows) == expected
    assert all(row["failures"] == 0 for row in rows.values()), rows
    assert all(rows[site, "/healthz"]["rps_median"] > 0 for site in sites)
    assert "| generated | /healthz |" in (tmp_path / "latest.md").read_text()
