"""Soak: a thousand tasks through each consumer, about one in ten failing once, over moto's SQS server.

Every task must have run exactly once (its note and its run marker committed once) or be waiting in the
dead-letter queue; none may be lost. The counts and the drain time are printed (pytest -s shows them); the time is
reported, never asserted.
"""

import json
import time

import pytest
from project import DEFAULT
from services import moto_server
from tasks_harness import Project, Queues, celery_worker, enqueue, process

TASKS = 1000
DRAIN_WAIT = 900  # seconds; only a consumer that stopped consuming takes this long
COUNTS = """
import json
from django.apps import apps
from django.db.models import Count
notes = apps.get_model("notes", "Note").objects.filter(title__startswith={prefix!r})
per_title = notes.values("title").annotate(copies=Count("id"))
print(json.dumps({{
    "notes": notes.count(),
    "titles": per_title.count(),
    "duplicated": per_title.filter(copies__gt=1).count(),
    "markers": apps.get_model("background", "TaskRun").objects.count(),
}}))
"""


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as endpoint:
        yield endpoint


def consumer_process(consumer, project, env, log):
    if consumer == "celery":
        return celery_worker(project, env, log, concurrency=2)
    return process([project.venv / "bin/python", "manage.py", "poll_tasks", "--wait", "1"], project.path, env, log)


@pytest.mark.parametrize("consumer", ["lambda", "celery"], ids=lambda consumer: f"consumer={consumer}")
def test_a_thousand_tasks_with_transient_failures_run_exactly_once_or_wait_in_the_dead_letter_queue(
    consumer, generated, endpoint, tmp_path
):
    project = Project(generated, consumer, DEFAULT["python_version"], tmp_path)
    try:
        queues = Queues(endpoint, max_receive_count=3, visibility_timeout=30)
        env = project.base_env | queues.env
        env |= {"TASKS_VISIBILITY_TIMEOUT_SECONDS": "30", "TASKS_TIME_LIMIT_SECONDS": "25"}
        prefix = f"soak-{consumer}-"
        titles = [f"{prefix}{number}" for number in range(TASKS)]
        enqueue(project, env, *[("fail_first_one_in_ten", [title]) for title in titles])
        assert queues.depth() == TASKS
        with consumer_process(consumer, project, env, tmp_path / "consumer.log") as consumer_proc:
            started = time.monotonic()
            # Drained: no message waiting or in flight. A consumer deletes a message only after its task committed,
            # so every effect is in the database by then.
            while (left := queues.depth()) > 0:
                assert consumer_proc.poll() is None, f"the consumer exited with {consumer_proc.returncode}"
                waited = time.monotonic() - started
                assert waited < DRAIN_WAIT, f"{left} messages still queued after {DRAIN_WAIT} s"
                time.sleep(1)
            drained = time.monotonic() - started
        counts = json.loads(project.value(COUNTS.format(prefix=prefix), env))
        dead = queues.depth(queues.dlq)
        retried = sum(1 for title in titles if project.attempts_of(title) > 1)
        print(
            f"\n{consumer}: {TASKS} tasks drained in {drained:.1f} s; ran {counts['titles']}, retried {retried}, "
            f"dead-lettered {dead}, duplicated {counts['duplicated']}, run markers {counts['markers']}"
        )
        assert counts["titles"] + dead == TASKS, f"{TASKS - counts['titles'] - dead} tasks were lost"
        assert counts["duplicated"] == 0
        assert counts["notes"] == counts["titles"] == counts["markers"]
        assert retried > 0, "no task failed: the soak tested no retry"
    finally:
        project.drop()
