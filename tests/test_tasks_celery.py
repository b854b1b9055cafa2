"""The Celery consumer end to end: the project's `worker` role (a real Celery worker) against a moto SQS server,
fed by the project's backend."""

import base64
import json
import time

import pytest
from project import PYTHONS
from services import moto_server
from tasks_harness import WAIT, Project, Queues, celery_worker, enqueue, kill, logged_with_request_id

MAX_RECEIVE_COUNT = 3


@pytest.fixture(scope="module", params=list(PYTHONS), ids=lambda python: f"consumer=celery-python={python}")
def project(request, generated, tmp_path_factory):
    project = Project(generated, "celery", request.param, tmp_path_factory.mktemp("celery"))
    yield project
    project.drop()


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def queues(endpoint):
    # A short visibility timeout, so a killed worker's message comes back soon; the time limit stays below it.
    return Queues(endpoint, max_receive_count=MAX_RECEIVE_COUNT, visibility_timeout=10)


@pytest.fixture
def env(project, queues):
    return project.base_env | queues.env | {"TASKS_VISIBILITY_TIMEOUT_SECONDS": "10", "TASKS_TIME_LIMIT_SECONDS": "9"}


def test_an_enqueued_task_runs_once_end_to_end_under_the_request_id_it_was_enqueued_with(
    project, env, queues, tmp_path
):
    with celery_worker(project, env, tmp_path / "worker.log") as worker:
        enqueue(project, env, ("make_note", ["celery ran"]), request_id="req-celery-1")
        project.wait_for_notes(env, "celery ran", process=worker)
        queues_empty(queues)
    assert project.attempts_of("celery ran") == 1
    assert logged_with_request_id(tmp_path / "worker.log", "req-celery-1")


def test_a_failing_task_is_retried_after_a_backoff_and_then_succeeds(project, env, queues, tmp_path):
    with celery_worker(project, env, tmp_path / "worker.log") as worker:
        enqueue(project, env, ("fail_first", ["celery flaky", 1]))
        project.wait_for_notes(env, "celery flaky", process=worker)
        queues_empty(queues)
    assert project.attempts_of("celery flaky") == 2
    assert project.notes(env, "celery flaky") == 1


def test_a_task_that_keeps_failing_lands_in_the_dead_letter_queue_with_its_payload(project, env, queues, tmp_path):
    with celery_worker(project, env, tmp_path / "worker.log"):
        enqueue(project, env, ("fail_first", ["celery poison", 99]))
        dead = queues.wait_for_dead_letter(poll_queue=False)
    # Never run beyond maxReceiveCount: each delivery to the worker is one attempt.
    assert project.attempts_of("celery poison") == MAX_RECEIVE_COUNT
    # The Celery message, payload intact: the generic task and the Django task's envelope as its argument.
    message = json.loads(base64.b64decode(dead["Body"]))
    assert message["headers"]["task"] == "background.run"
    [envelope], _, _ = json.loads(base64.b64decode(message["body"]))
    assert json.loads(envelope)["args"] == ["celery poison", 99]
    assert project.notes(env, "celery poison") == 0


def test_a_worker_killed_mid_task_leaves_the_message_to_be_redelivered_and_run_once(project, env, queues, tmp_path):
    log = tmp_path / "worker.log"
    with celery_worker(project, env, log) as worker:
        enqueue(project, env, ("hang_first", ["celery killed"]))
        deadline = time.monotonic() + WAIT
        while project.attempts_of("celery killed") < 1:
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"the task did not start within {WAIT} s\n{log.read_text()}"
            time.sleep(0.2)
        kill(worker)  # SIGKILL to the worker and its pool: nothing is acknowledged or rejected
    with celery_worker(project, env, log) as worker:
        project.wait_for_notes(env, "celery killed", process=worker)
        queues_empty(queues)
    assert project.notes(env, "celery killed") == 1
    assert project.attempts_of("celery killed") == 2


def queues_empty(queues):
    """The worker deletes a message once its task ran; wait for the delete (the ack follows the commit)."""
    deadline = time.monotonic() + WAIT
    while queues.depth() != 0:
        assert time.monotonic() < deadline, f"the message was not acknowledged within {WAIT} s"
        time.sleep(0.5)
    assert queues.depth(queues.dlq) == 0
