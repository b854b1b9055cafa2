"""Web: requests per second and p50/p99 latency from wrk on loopback, sites side by side in interleaved rounds.

Sites, all under gunicorn with uvicorn workers and the same worker count, on the same PostgreSQL and Redis:
- generated: the template's default combination on its production settings (its own gunicorn.conf.py);
- bare: `django-admin startproject` with the same two views (bench/bare/), no pool (Django's limit);
- bare+pool: the same with Django's psycopg pool, as the generated app has (the fair database comparison);
- generated, EMF off: the generated app with its EMF request-metrics middleware removed (when it has one);
- cookiecutter-django: its generated project on its production settings, rendered from a copy the user names
  (--cookiecutter-django PATH; bench/cookiecutter_django.py), with the same two views.
Paths: /healthz (no I/O) and /readyz (one PostgreSQL round trip, one Redis write, read and delete) everywhere;
/notes/ (a JSON list read from PostgreSQL) on the generated sites only: the EMF middleware never counts health
checks, so its cost shows on an ordinary page.
"""

import contextlib
import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import cookiecutter_django
from common import TEMPLATE, not_yet, observability_middleware
from project import DEFAULT, make_venv, render, run
from services import REDIS_URL, gunicorn, http_get, postgres_database, require_shared_services, run_unique

BARE = Path(__file__).resolve().parent / "bare"
PATHS = ["/healthz", "/readyz"]
APP_PATHS = [*PATHS, "/notes/"]
EMF_MIDDLEWARE = "RequestMetricsMiddleware"
# A settings module the benchmark writes into its own rendering: the generated settings minus one middleware.
NO_EMF_SETTINGS = f"""from config.settings import *  # noqa: F403

MIDDLEWARE = [name for name in MIDDLEWARE if not name.endswith(".{EMF_MIDDLEWARE}")]  # noqa: F405
"""
# Behind the load balancer: its Host and X-Forwarded-Proto (the generated app redirects plain HTTP otherwise).
HEADERS = {"Host": "localhost", "X-Forwarded-Proto": "https"}
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def wrk_binary():
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk (listed in .ci/apt-packages.txt)")
    return found


def milliseconds(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def parse_wrk(output):
    """Requests per second, p50 and p99 in ms, and failures (non-2xx/3xx answers plus socket errors)."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    p50 = milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.M)[1])
    p99 = milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.M)[1])
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failures = (int(non_2xx[1]) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    total = int(re.search(r"(\d+) requests in", output)[1])
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": total, "failures": failures}


def load(url, seconds, connections, threads):
    headers = [arg for name, value in HEADERS.items() for arg in ("-H", f"{name}: {value}")]
    args = [wrk_binary(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", *headers, url]
    result = subprocess.run(args, capture_output=True, text=True, check=True, timeout=seconds + 120)
    return parse_wrk(result.stdout)


def answered(url, seconds=120):
    """Wait until URL answers 200 once (a worker's first database and cache connections are made here)."""
    deadline = time.monotonic() + seconds
    while True:
        status = None
        with contextlib.suppress(OSError):
            status = http_get(url, timeout=30, headers=HEADERS)[0]
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer 200 within {seconds} s (last status {status})")
        time.sleep(0.5)


def bare_project(venv, work):
    """A fresh `django-admin startproject bare` with the benchmark's two views and settings tail."""
    project = work / "bare"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    run([venv / "bin/django-admin", "startproject", "bare", project])
    shutil.copy(BARE / "views.py", project / "bare" / "views.py")
    shutil.copy(BARE / "urls.py", project / "bare" / "urls.py")
    settings = project / "bare" / "settings.py"
    settings.write_text(settings.read_text() + "\n" + (BARE / "settings_tail.py").read_text())
    return project


def measure(options):
    require_shared_services()
    wrk_binary()
    work = Path(options.work) / "web"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    project = render(work, **DEFAULT)
    venv = make_venv(project, DEFAULT["python_version"])
    bare = bare_project(venv, work)
    name = run_unique("bench_web")
    emf = EMF_MIDDLEWARE in (project / "config" / "settings.py").read_text()
    notes = [] if emf else [not_yet("generated, EMF middleware off", observability_middleware())]
    ccd = None
    if options.cookiecutter_django is None:
        notes.append(f"{cookiecutter_django.SITE}: not measured (pass --cookiecutter-django PATH)")
    else:
        try:
            ccd = cookiecutter_django.prepare(options.cookiecutter_django, work, notes)
        except cookiecutter_django.Unavailable as error:
            notes.append(f"{cookiecutter_django.SITE}: not measured: {error}")
    with contextlib.ExitStack() as databases:
        database_url = databases.enter_context(postgres_database(venv / "bin/python", name))
        base_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))},
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": name,
            "SECRET_KEY": "bench-only-not-secret",
            "ALLOWED_HOSTS": "localhost",
            "DOTENV_PATH": str(project / "absent.env"),
            # Production's default: access lines and one EMF record per request are part of the cost measured.
            "LOG_LEVEL": "INFO",
        }
        run([venv / "bin/python", "manage.py", "migrate", "--noinput"], cwd=project, env=base_env)
        run([venv / "bin/python", "manage.py", "collectstatic", "--noinput"], cwd=project, env=base_env)
        bare_env = {**base_env, "DJANGO_SETTINGS_MODULE": "bare.settings"}
        sites = {
            "generated": (project, "config.asgi:application", base_env, project / "gunicorn.conf.py", venv),
            "bare": (bare, "bare.asgi:application", bare_env, None, venv),
            "bare+pool": (bare, "bare.asgi:application", {**bare_env, "BENCH_PSYCOPG_POOL": "1"}, None, venv),
        }
        if emf:
            (project / "config" / "settings_bench_no_emf.py").write_text(NO_EMF_SETTINGS)
            no_emf_env = {**base_env, "DJANGO_SETTINGS_MODULE": "config.settings_bench_no_emf"}
            config = project / "gunicorn.conf.py"
            sites["generated, EMF off"] = (project, "config.asgi:application", no_emf_env, config, venv)
        if ccd is not None:
            ccd_project, ccd_venv = ccd
            # A database of its own on the shared server: its migrations are not the generated app's.
            ccd_url = databases.enter_context(postgres_database(ccd_venv / "bin/python", run_unique("bench_ccd")))
            ccd_env = cookiecutter_django.environment(ccd_url, REDIS_URL)
            try:
                cookiecutter_django.migrate(ccd_project, ccd_venv, ccd_env)
            except cookiecutter_django.Unavailable as error:
                notes.append(f"{cookiecutter_django.SITE}: not measured: {error}")
            else:
                sites[cookiecutter_django.SITE] = (ccd_project, "config.asgi:application", ccd_env, None, ccd_venv)
        paths = {site: APP_PATHS if site.startswith("generated") else PATHS for site in sites}
        samples = {(site, path): [] for site in sites for path in paths[site]}
        with contextlib.ExitStack() as stack:
            servers = {
                site: stack.enter_context(
                    gunicorn(site_venv, cwd, app, env, options.workers, config=config, log_path=work / f"{site}.log")
                )
                for site, (cwd, app, env, config, site_venv) in sites.items()
            }
            for site, server in servers.items():  # warm-up: imports, pools and caches, outside the rounds
                for path in paths[site]:
                    answered(server.url(path))
                    load(server.url(path), options.duration, options.connections, options.threads)
            for _ in range(options.rounds):
                for path in APP_PATHS:
                    for site, server in servers.items():
                        if path not in paths[site]:
                            continue
                        url = server.url(path)
                        samples[site, path].append(load(url, options.duration, options.connections, options.threads))
                        time.sleep(options.pause)
    return summarize(samples, options, notes)


def summarize(samples, options, notes):
    rows = []
    for (site, path), runs in samples.items():
        rps = statistics.median(r["rps"] for r in runs)
        bare = statistics.median(r["rps"] for r in samples["bare", path]) if ("bare", path) in samples else None
        rows.append(
            {
                "site": site,
                "path": path,
                "rps_median": round(rps, 1),
                "p50_ms_median": round(statistics.median(r["p50_ms"] for r in runs), 2),
                "p99_ms_median": round(statistics.median(r["p99_ms"] for r in runs), 2),
                "vs_bare": round(rps / bare, 3) if bare else None,
                "failures": sum(r["failures"] for r in runs),
                "runs": runs,
            }
        )
    medians = {(row["site"], row["path"]): row["rps_median"] for row in rows}
    for path in APP_PATHS:
        with_emf, without = medians.get(("generated", path)), medians.get(("generated, EMF off", path))
        if with_emf and without:
            notes.append(f"EMF middleware on {path}: {with_emf / without:.3f} x the throughput without it")
    settings = {
        "load generator": "wrk (loopback)",
        "rounds": options.rounds,
        "seconds per run": options.duration,
        "connections": options.connections,
        "wrk threads": options.threads,
        "gunicorn workers": options.workers,
        "worker class": "uvicorn_worker.UvicornWorker",
        "template": str(TEMPLATE),
    }
    return {"settings": settings, "rows": rows, "notes": notes}


def markdown(result):
    lines = [
        "| site | path | req/s (median) | vs bare | p50 ms | p99 ms | failed requests |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['site']} | {row['path']} | {row['rps_median']} | {row['vs_bare'] or 'n/a'}"
            f" | {row['p50_ms_median']} | {row['p99_ms_median']} | {row['failures']} |"
        )
    return "\n".join(lines)
