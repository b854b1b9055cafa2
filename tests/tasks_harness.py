"""Background-task consumers under test: a generated project on its own database, queues on a moto server,
the backend's real messages, and the consumer processes (the Lambda handler behind the Runtime Interface
Emulator, a Celery worker). Waits are generous and nothing is timed: the machine may be loaded."""

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
import zipfile
from pathlib import Path

import boto3
from docker_harness import DOCKER
from project import PYTHONS, SHARED_CACHE, make_venv, run
from services import aws_env, free_port, postgres_database_url, require_shared_services, run_unique, wait_for_port

STAND_INS = Path(__file__).resolve().parent / "stand_ins"
TASKS = "queued_tasks"  # tests/stand_ins/queued_tasks.py
# The emulator AWS's own tooling runs container functions with, from a pinned SAM CLI wheel.
SAM_CLI = "aws-sam-cli==1.170.0"
RIE_MEMBER = "samcli/local/rapid/aws-lambda-rie-x86_64"
WAIT = 180  # seconds for anything to happen; only a hung consumer takes this long
_containers = itertools.count()


def consumer_params():
    """(consumer, python) pairs with sentence-like ids: consumer=lambda-python=3.13."""
    return [(c, p) for c in ("lambda", "celery") for p in PYTHONS], [
        f"consumer={c}-python={p}" for c in ("lambda", "celery") for p in PYTHONS
    ]


class Project:
    """A generated project with its virtualenv and its own PostgreSQL database, migrated."""

    def __init__(self, generated, consumer, python, tmp):
        require_shared_services()
        self.path = generated(async_consumer=consumer, python_version=python)
        self.python_version = python
        self.venv = make_venv(self.path, python)
        self.database = run_unique(f"tasks_{consumer}_{python.replace('.', '')}_{os.getpid()}")
        self.attempts = tmp / "attempts"
        self.attempts.mkdir()
        self.attempts.chmod(0o777)  # the image's unprivileged user counts attempts here too
        self.base_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "TASKS_", "AWS_"))},
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "DATABASE_URL": postgres_database_url(self.database),
            "DOTENV_PATH": str(self.path / "absent.env"),
            "SECRET_KEY": "tasks-test-only",
            "ALLOWED_HOSTS": "testserver,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "PYTHONPATH": str(STAND_INS),
            "TASK_ATTEMPTS_DIR": str(self.attempts),
            "TASKS_BACKOFF_BASE_SECONDS": "1",
            "TASKS_BACKOFF_MAX_SECONDS": "2",
        }
        self.python(
            f"import psycopg; psycopg.connect({postgres_database_url('postgres')!r}, autocommit=True)"
            f".execute('CREATE DATABASE \"{self.database}\"')",
            django=False,
        )
        run([self.venv / "bin/python", "manage.py", "migrate", "--noinput"], cwd=self.path, env=self.base_env)

    def drop(self):
        self.python(
            f"import psycopg; psycopg.connect({postgres_database_url('postgres')!r}, autocommit=True)"
            f".execute('DROP DATABASE IF EXISTS \"{self.database}\" WITH (FORCE)')",
            django=False,
        )

    def python(self, code, env=None, django=True):
        """Run CODE in the project's Python (after django.setup() unless DJANGO is false); returns stdout."""
        prologue = (
            "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\ndjango.setup()\n"
        )
        source = (prologue if django else "") + textwrap.dedent(code)
        return run([self.venv / "bin/python", "-c", source], cwd=self.path, env=env or self.base_env).stdout

    def value(self, code, env):
        """The last line CODE prints (the app's own log lines may come before it on stdout)."""
        return self.python(code, env).strip().splitlines()[-1]

    def notes(self, env, title):
        count = f"apps.get_model('notes', 'Note').objects.filter(title={title!r}).count()"
        return int(self.value(f"from django.apps import apps\nprint({count})", env))

    def wait_for_notes(self, env, title, count=1, process=None):
        """Wait until COUNT notes titled TITLE exist (the task ran and committed)."""
        deadline = time.monotonic() + WAIT
        while (found := self.notes(env, title)) < count:
            if process is not None and process.poll() is not None:
                raise AssertionError(f"the consumer exited with {process.returncode}")
            assert time.monotonic() < deadline, f"{count} note(s) {title!r} did not appear within {WAIT} s ({found})"
            time.sleep(0.5)

    def attempts_of(self, title):
        path = self.attempts / title
        return len(path.read_text()) if path.exists() else 0


class Queues:
    """A task queue and its dead-letter queue on a moto server, with the redrive SQS applies."""

    created = itertools.count()

    def __init__(self, endpoint, max_receive_count=3, visibility_timeout=30):
        self.endpoint = endpoint
        self.env = aws_env(endpoint)
        self.client = boto3.client(
            "sqs",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        suffix = run_unique(f"q{next(Queues.created)}")
        self.dlq = self.client.create_queue(QueueName=f"tasks-dlq-{suffix}")["QueueUrl"]
        redrive = {"deadLetterTargetArn": self.arn(self.dlq), "maxReceiveCount": str(max_receive_count)}
        self.url = self.client.create_queue(
            QueueName=f"tasks-{suffix}",
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": str(visibility_timeout)},
        )["QueueUrl"]
        self.env |= {"TASKS_QUEUE_URL": self.url, "TASKS_DEAD_LETTER_QUEUE_URL": self.dlq}

    def arn(self, url):
        return self.client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def depth(self, url=None):
        attributes = self.client.get_queue_attributes(
            QueueUrl=url or self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def receive(self, url=None, wait=2):
        return self.client.receive_message(
            QueueUrl=url or self.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def receive_exactly(self, count, url=None):
        """Receive until COUNT messages have arrived (each becomes invisible once received)."""
        messages, deadline = [], time.monotonic() + WAIT
        while len(messages) < count:
            assert time.monotonic() < deadline, f"only {len(messages)} of {count} messages arrived within {WAIT} s"
            messages += self.receive(url)
        assert len(messages) == count, messages
        return messages

    def wait_for_dead_letter(self, poll_queue=True):
        """The one message SQS moves to the dead-letter queue; SQS moves it when a receive would exceed
        maxReceiveCount, so the queue is polled too (and must hand out nothing). With a consumer of its own
        running (POLL_QUEUE false), the consumer's receives move it, and a receive here would only race it."""
        deadline = time.monotonic() + WAIT
        while True:
            if poll_queue:
                assert self.receive(wait=1) == [], "the message was delivered beyond maxReceiveCount"
            dead = self.receive(self.dlq, wait=1)
            if dead:
                [message] = dead
                return message
            assert time.monotonic() < deadline, f"nothing reached the dead-letter queue within {WAIT} s"

    def deliver(self, invoke, messages):
        """What Lambda's event source mapping does: invoke with MESSAGES, then delete those not reported failed."""
        response = invoke(self.event(messages))
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self.client.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return response

    def event(self, messages):
        """The event Lambda's SQS event source mapping delivers for MESSAGES (documented record fields)."""
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m["Attributes"],
                    "messageAttributes": m.get("MessageAttributes", {}),
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn(self.url),
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }


def enqueue(project, env, *calls, request_id=None):
    """Enqueue each (task name, args) of tests/stand_ins/queued_tasks.py through the project's backend, under
    REQUEST_ID as a request would (the observability context) when one is given."""
    lines = [f"from {TASKS} import *", f"from {project.path.name}.observability import context"]
    lines.append(f"with context.bind({request_id!r}):")
    lines += [f"    {name}.enqueue(*{args!r})" for name, args in calls]
    project.python("\n".join(lines), env)


def logged_with_request_id(log, request_id):
    """The JSON log lines in LOG that carry REQUEST_ID (a consumer's output mixes in other lines)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line[line.index("{") :]) if "{" in line else None
            if isinstance(record, dict) and record.get("request_id") == request_id:
                found.append(record)
    return found


def lambda_rie():
    """The AWS Lambda Runtime Interface Emulator binary, unzipped once from the SAM CLI wheel into the cache."""
    target = SHARED_CACHE / "aws-lambda-rie" / SAM_CLI.replace("==", "-") / "aws-lambda-rie"
    if not target.exists():
        download = target.parent / "wheel"
        download.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", SAM_CLI, "-d", download])
        [wheel] = download.glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            partial = target.with_suffix(".partial")
            partial.write_bytes(archive.read(RIE_MEMBER))
        partial.chmod(0o755)
        partial.rename(target)
        wheel.unlink()
    return target


@contextlib.contextmanager
def process(args, cwd, env, log):
    """A consumer process in its own session, stopped (the whole group) on exit; output goes to LOG."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(a) for a in args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        kill(proc, signal.SIGTERM)


def kill(proc, sig=signal.SIGKILL):
    """Signal the process's whole group and reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)


@contextlib.contextmanager
def lambda_function(image, env, log):
    """IMAGE's `lambda` role as AWS documents testing a container function locally: the Runtime Interface
    Emulator mounted into the container and made its entry point, the image's own command after it. The
    container shares the host's network (moto, PostgreSQL); the stand-in tasks and the attempt counters are
    mounted in. Yields the invoke function."""
    port, api_port = free_port(), free_port()
    name = run_unique(f"lambda-{next(_containers)}").replace("_", "-")
    rie = lambda_rie()
    # What the test set, minus the host's paths: the container has its own PATH and Python.
    settings = {k: v for k, v in env.items() if os.environ.get(k) != v and k not in ("PATH", "PYTHONPATH")}
    settings |= {"PYTHONPATH": "/stand_ins", "TASK_ATTEMPTS_DIR": "/attempts", "AWS_LAMBDA_FUNCTION_TIMEOUT": "120"}
    args = [
        DOCKER, "run", "--rm", "--name", name, "--network", "host",
        "--volume", f"{rie.parent}:/aws-lambda:ro",
        "--volume", f"{STAND_INS}:/stand_ins:ro",
        "--volume", f"{env['TASK_ATTEMPTS_DIR']}:/attempts",
        *[arg for k, v in settings.items() for arg in ("--env", f"{k}={v}")],
        "--entrypoint", f"/aws-lambda/{rie.name}", image.ref,
        "--runtime-interface-emulator-address", f"127.0.0.1:{port}",
        "--runtime-api-address", f"127.0.0.1:{api_port}",
        "/app/docker-entrypoint.sh", "lambda",
    ]  # fmt: skip
    try:
        with process(args, image.project, image.docker.env, log) as proc:
            wait_for_port("127.0.0.1", port, seconds=WAIT, process=proc)
            url = f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"

            def invoke(event):
                request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST")
                with urllib.request.urlopen(request, timeout=WAIT) as response:
                    return json.loads(response.read())

            yield invoke
    finally:
        image.docker("rm", "--force", name, check=False)


@contextlib.contextmanager
def celery_worker(project, env, log, concurrency=1):
    """The project's `worker` entry-point role with CONCURRENCY pool processes."""
    args = ["sh", project.path / "docker-entrypoint.sh", "worker", "--concurrency", str(concurrency)]
    with process(args, project.path, env, log) as proc:
        yield proc
