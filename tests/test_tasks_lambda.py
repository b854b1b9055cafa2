"""The Lambda consumer as Lambda runs it: the project's image, its `lambda` role behind the Runtime Interface
Emulator, invoked with SQS events built from messages the project's backend really sent to a moto server."""

import json

import pytest
from project import PYTHONS
from services import moto_requests, moto_server, moto_start_recording
from tasks_harness import Project, Queues, enqueue, lambda_function, logged_with_request_id

MAX_RECEIVE_COUNT = 3


@pytest.fixture(scope="module", params=list(PYTHONS), ids=lambda python: f"consumer=lambda-python={python}")
def project(request, generated, tmp_path_factory):
    project = Project(generated, "lambda", request.param, tmp_path_factory.mktemp("lambda"))
    yield project
    project.drop()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    with moto_server(recording=tmp_path_factory.mktemp("moto") / "requests.jsonl") as endpoint:
        moto_start_recording(endpoint)
        yield endpoint


@pytest.fixture
def queues(endpoint):
    return Queues(endpoint, max_receive_count=MAX_RECEIVE_COUNT)


@pytest.fixture
def env(project, queues):
    return project.base_env | queues.env


@pytest.fixture
def invoke(project, images, env, tmp_path):
    image = images({"python_version": project.python_version, "async_consumer": "lambda"})
    with lambda_function(image, env, tmp_path / "lambda.log") as invoke:
        yield invoke


def test_the_view_enqueues_the_documented_envelope_and_the_function_builds_the_export(
    project, env, queues, invoke, tmp_path
):
    export_id = project.value(
        """
        from django.test import Client
        response = Client().post("/exports/", headers={"X-Request-ID": "req-export-1"})
        assert response.status_code == 202, response.status_code
        print(response.json()["id"])
        """,
        env,
    )
    [message] = queues.receive_exactly(1)
    body = json.loads(message["Body"])
    assert set(body) == {"version", "task", "args", "kwargs", "task_id", "enqueued_at", "correlation_id"}
    assert (body["version"], body["args"], body["kwargs"]) == (1, [int(export_id)], {})
    assert body["task"].endswith(".notes.tasks.build_export")
    # One id follows the work: the request's id travels in the envelope into the function's log lines.
    assert body["correlation_id"] == "req-export-1"
    assert queues.deliver(invoke, [message]) == {"batchItemFailures": []}
    assert logged_with_request_id(tmp_path / "lambda.log", "req-export-1")
    status = project.value(
        f"from django.test import Client\nprint(Client().get('/exports/{export_id}/').json()['status'])", env
    )
    assert status == "done"


def test_a_rolled_back_transaction_sends_nothing(project, env, queues):
    project.python(
        """
        from django.db import transaction
        from queued_tasks import make_note
        try:
            with transaction.atomic():
                make_note.enqueue("rolled back")
                raise RuntimeError
        except RuntimeError:
            pass
        """,
        env,
    )
    enqueue(project, env, ("make_note", ["committed"]))
    [message] = queues.receive_exactly(1)
    assert json.loads(message["Body"])["args"] == ["committed"]


def test_run_after_beyond_fifteen_minutes_and_oversized_payloads_are_refused(project, env, queues):
    output = project.python(
        """
        from datetime import timedelta
        from django.utils import timezone
        from queued_tasks import make_note
        for attempt in (
            lambda: make_note.using(run_after=timezone.now() + timedelta(minutes=20)).enqueue("late"),
            lambda: make_note.enqueue("x" * 300_000),
        ):
            try:
                attempt()
            except Exception as error:
                print(error)
        """,
        env,
    )
    assert "SQS delays at most 900 s" in output
    assert "over SQS's 262144" in output
    assert queues.depth() == 0


def test_one_failing_record_is_reported_alone_and_backs_off(project, env, queues, invoke, endpoint):
    enqueue(project, env, ("make_note", ["fine"]), ("fail_first", ["flaky", 1]))
    messages = queues.receive_exactly(2)
    flaky = next(m for m in messages if "fail_first" in m["Body"])
    assert queues.deliver(invoke, messages) == {"batchItemFailures": [{"itemIdentifier": flaky["MessageId"]}]}
    assert project.notes(env, "fine") == 1
    assert project.notes(env, "flaky") == 0  # its write rolled back with the failure
    # base (1 s) x 2^(receive count 1 - 1), set on exactly that message
    changes = [c for c in moto_requests(endpoint, "AmazonSQS.ChangeMessageVisibility") if c["QueueUrl"] == queues.url]
    assert [(c["ReceiptHandle"], c["VisibilityTimeout"]) for c in changes] == [(flaky["ReceiptHandle"], 1)]
    # The message comes back, and the next attempt succeeds and is deleted.
    [again] = queues.receive_exactly(1)
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert queues.deliver(invoke, [again]) == {"batchItemFailures": []}
    assert project.notes(env, "flaky") == 1
    assert queues.depth() == 0


def test_a_poison_message_reaches_the_dead_letter_queue_after_max_receive_count(project, env, queues, invoke, endpoint):
    enqueue(project, env, ("fail_first", ["poison", 99]))
    for receive in range(1, MAX_RECEIVE_COUNT + 1):
        [message] = queues.receive_exactly(1)
        assert message["Attributes"]["ApproximateReceiveCount"] == str(receive)
        assert queues.deliver(invoke, [message]) == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    # Once received maxReceiveCount times, SQS moves it (on the next receive) with its body intact.
    dead = queues.wait_for_dead_letter()
    assert dead["Body"] == message["Body"]
    assert project.attempts_of("poison") == MAX_RECEIVE_COUNT
    changes = [c for c in moto_requests(endpoint, "AmazonSQS.ChangeMessageVisibility") if c["QueueUrl"] == queues.url]
    assert [c["VisibilityTimeout"] for c in changes] == [1, 2, 2]  # doubling, capped by TASKS_BACKOFF_MAX_SECONDS


def test_a_duplicate_delivery_runs_the_task_once(project, env, queues, invoke):
    enqueue(project, env, ("make_note", ["duplicate"]))
    [message] = queues.receive_exactly(1)
    assert invoke(queues.event([message])) == {"batchItemFailures": []}
    # Delivered again, as SQS may: the function reports success without running the task a second time.
    queues.client.change_message_visibility(
        QueueUrl=queues.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    [again] = queues.receive_exactly(1)
    assert again["MessageId"] == message["MessageId"]
    assert invoke(queues.event([again])) == {"batchItemFailures": []}
    assert project.notes(env, "duplicate") == 1
    assert project.attempts_of("duplicate") == 1


def test_an_unknown_task_path_goes_to_the_dead_letter_queue_at_once(project, env, queues, invoke, tmp_path):
    enqueue(project, env, ("make_note", ["renamed"]))
    [sent] = queues.receive_exactly(1)
    body = json.dumps({**json.loads(sent["Body"]), "task": "queued_tasks.renamed_since"})
    queues.client.delete_message(QueueUrl=queues.url, ReceiptHandle=sent["ReceiptHandle"])
    queues.client.send_message(QueueUrl=queues.url, MessageBody=body)
    [message] = queues.receive_exactly(1)
    assert queues.deliver(invoke, [message]) == {"batchItemFailures": []}
    [dead] = queues.receive_exactly(1, url=queues.dlq)
    assert dead["Body"] == body
    assert queues.depth() == 0
    assert "goes to the dead-letter queue" in (tmp_path / "lambda.log").read_text()
