"""Tasks: enqueue-to-done latency and the time to drain 1,000 tasks, for each consumer, over moto's SQS server.

The consumers are the generated project's own: the Celery `worker` role, and for Lambda the development poller
(`manage.py poll_tasks`), which long-polls the queue and feeds the real handler SQS-shaped batches as Lambda's
event source mapping would (the emulator runs one invocation at a time, so it would measure itself).

- Latency: tasks enqueued one by one at a steady rate while the consumer runs; each writes a note whose title
  carries its enqueue time, so latency = the note's created_at - that time (one machine, one clock).
- Drain: N tasks enqueued with no consumer running, then the consumer started: seconds until the last note.
"""

import statistics
import tempfile
import time
from pathlib import Path

from common import TEMPLATE  # noqa: F401 (puts tests/ on sys.path)
from project import render
from services import moto_server
from tasks_harness import Project, Queues, celery_worker, process

CONSUMERS = ("lambda", "celery")
PYTHON = "3.12"


def consumer(name, project, env, log):
    if name == "celery":
        return celery_worker(project, env, log)
    args = [project.venv / "bin/python", "manage.py", "poll_tasks", "--wait", "1"]
    return process(args, project.path, env, log)


def enqueue_timed(project, env, titles, rate):
    """Enqueue make_note(title + ' ' + enqueue time) for each of TITLES, RATE per second (0: at once)."""
    project.python(
        f"""
        import time
        from queued_tasks import make_note
        for title in {titles!r}:
            make_note.enqueue(f"{{title}} {{time.time()!r}}")
            if {rate}:
                time.sleep(1 / {rate})
        """,
        env,
    )


def notes(project, env, prefix):
    """[(title, created_at as a Unix time)] of the notes whose title starts with PREFIX."""
    out = project.python(
        f"""
        from django.apps import apps
        found = apps.get_model("notes", "Note").objects.filter(title__startswith={prefix!r})
        for title, created in found.values_list("title", "created_at"):
            print(title, created.timestamp(), sep="\\t")
        """,
        env,
    )
    return [(t, float(c)) for t, c in (line.split("\t") for line in out.splitlines())]


def wait_for(project, env, prefix, count, seconds):
    deadline = time.monotonic() + seconds
    while True:
        found = notes(project, env, prefix)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure_consumer(name, options, work):
    (work / name).mkdir()
    project = Project(lambda **answers: render(work / name, **answers), name, PYTHON, work / name)
    try:
        with moto_server() as endpoint:
            queues = Queues(endpoint, visibility_timeout=60)
            env = (
                project.base_env
                | queues.env
                | {"TASKS_VISIBILITY_TIMEOUT_SECONDS": "60", "TASKS_TIME_LIMIT_SECONDS": "50"}
            )
            latency_count, drain_count = (20, 50) if options.smoke else (200, 1000)
            with consumer(name, project, env, work / f"{name}-latency.log"):
                enqueue_timed(project, env, [f"latency {i}" for i in range(latency_count)], rate=20)
                found = wait_for(project, env, "latency ", latency_count, 600)
            latencies = [1000 * (created - float(title.rsplit(" ", 1)[1])) for title, created in found]
            enqueue_timed(project, env, [f"drain {i}" for i in range(drain_count)], rate=0)
            started = time.time()
            with consumer(name, project, env, work / f"{name}-drain.log"):
                found = wait_for(project, env, "drain ", drain_count, 1800)
            drained = max(created for _, created in found) - started if found else None
    finally:
        project.drop()
    return {
        "consumer": name,
        "python": PYTHON,
        "latency tasks": f"{len(latencies)}/{latency_count}",
        "latency p50 ms": round(statistics.median(latencies), 1) if latencies else None,
        "latency p99 ms": round(percentile(latencies, 99), 1) if latencies else None,
        "drained": f"{len(found)}/{drain_count}",
        "drain s": round(drained, 1) if drained is not None else None,
    }


def measure(options):
    Path(options.work).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tasks-", dir=options.work))
    rows = [measure_consumer(name, options, work) for name in CONSUMERS]
    return {
        "rows": rows,
        "settings": {"moto": "server mode on loopback", "latency rate": "20 tasks/s", "python": PYTHON},
        "notes": ["latency = note created_at - enqueue time; drain = first consumer start to the last note"],
    }


def markdown(part):
    columns = list(part["rows"][0])
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in part["rows"]]
    return "\n".join(lines)
