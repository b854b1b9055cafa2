"""CloudWatch without AWS: an Embedded Metric Format validator written from the specification, and a generated
project served by real gunicorn with uvicorn workers whose stdout is kept for reading records and log lines.

The EMF rules checked (CloudWatch_Embedded_Metric_Format_Specification): the root is a JSON object with an `_aws`
object holding `Timestamp` (milliseconds since the epoch, a number) and `CloudWatchMetrics` (an array of
MetricDirectives); a MetricDirective has a `Namespace` string, `Dimensions` (an array of DimensionSets, each an
array of at most 30 dimension keys, every key naming a string member of the root) and `Metrics` (at most 100
MetricDefinitions, each a `Name` whose value is a number or an array of at most 100 numbers at the root, an
optional `Unit` from CloudWatch's set, an optional `StorageResolution` of 1 or 60).
"""

import contextlib
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

from services import free_port, wait_for_http

# CloudWatch's StandardUnit values (PutMetricData / MetricDatum.Unit).
UNITS = {
    "Seconds", "Microseconds", "Milliseconds",
    "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
    "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
    "Count/Second", "None",
}  # fmt: skip
MAX_DIMENSIONS = 30
MAX_METRICS = 100
MAX_VALUES = 100
# Namespaces: 1-255 of letters, digits and . - _ / # : and space, not starting with a colon or "AWS/".
NAMESPACE = re.compile(r"^(?!AWS/)(?!:)[A-Za-z0-9.\-_/#: ]{1,255}$")


def is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def emf_problems(record):
    """Every way RECORD breaks the EMF specification; [] for a valid record."""
    if not isinstance(record, dict):
        return ["the root is not a JSON object"]
    meta = record.get("_aws")
    if not isinstance(meta, dict):
        return ["_aws is missing or not an object"]
    problems = []
    if not is_number(meta.get("Timestamp")):
        problems.append("_aws.Timestamp is missing or not a number")
    elif not 10**12 <= meta["Timestamp"] < 10**14:
        problems.append(f"_aws.Timestamp {meta['Timestamp']} is not in milliseconds since the epoch")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        return [*problems, "_aws.CloudWatchMetrics is missing or not an array"]
    for number, directive in enumerate(directives):
        where = f"CloudWatchMetrics[{number}]"
        if not isinstance(directive, dict):
            problems.append(f"{where} is not an object")
            continue
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not NAMESPACE.match(namespace):
            problems.append(f"{where}.Namespace {namespace!r} is not a valid CloudWatch namespace")
        dimension_sets = directive.get("Dimensions")
        if not isinstance(dimension_sets, list):
            problems.append(f"{where}.Dimensions is missing or not an array")
            dimension_sets = []
        for set_number, keys in enumerate(dimension_sets):
            if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
                problems.append(f"{where}.Dimensions[{set_number}] is not an array of strings")
                continue
            if len(keys) > MAX_DIMENSIONS:
                problems.append(f"{where}.Dimensions[{set_number}] has {len(keys)} keys (at most {MAX_DIMENSIONS})")
            for key in keys:
                value = record.get(key)
                if not isinstance(value, str) or not value or len(value) > 1024:
                    problems.append(f"dimension {key!r} has no string value of 1-1024 characters at the root")
        definitions = directive.get("Metrics")
        if not isinstance(definitions, list):
            problems.append(f"{where}.Metrics is missing or not an array")
            continue
        if len(definitions) > MAX_METRICS:
            problems.append(f"{where}.Metrics has {len(definitions)} metrics (at most {MAX_METRICS})")
        for definition in definitions:
            if not isinstance(definition, dict) or not isinstance(definition.get("Name"), str):
                problems.append(f"{where}: a metric definition has no Name")
                continue
            name = definition["Name"]
            if "Unit" in definition and definition["Unit"] not in UNITS:
                problems.append(f"metric {name!r}: unit {definition['Unit']!r} is not a CloudWatch unit")
            if "StorageResolution" in definition and definition["StorageResolution"] not in (1, 60):
                problems.append(f"metric {name!r}: StorageResolution must be 1 or 60")
            value = record.get(name)
            values = value if isinstance(value, list) else [value]
            if not values or len(values) > MAX_VALUES or not all(is_number(item) for item in values):
                problems.append(f"metric {name!r} has no number (or array of 1-{MAX_VALUES} numbers) at the root")
    return problems


def parse_stdout(text):
    """(EMF records, log lines, lines that are not JSON objects) from a process's stdout."""
    records, logs, other = [], [], []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            other.append(line)
            continue
        if not isinstance(value, dict):
            other.append(line)
        elif "_aws" in value:
            records.append(value)
        else:
            logs.append(value)
    return records, logs, other


class Server:
    def __init__(self, url, stdout_path, process):
        self.url = url
        self.stdout_path = stdout_path
        self.process = process

    def stdout(self):
        return Path(self.stdout_path).read_text()


def server_env(project, database, **extra):
    """Production-like settings on SQLite: no .env, no HTTPS redirect, the test client's host."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_"))},
        "SECRET_KEY": "cloudwatch-harness-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{database}",
        "DOTENV_PATH": str(project / "no-such.env"),
        "METRICS_ENVIRONMENT": "test",
        "PYTHONUNBUFFERED": "1",  # as in the image: every line reaches the file whole and at once
        **extra,
    }


@contextlib.contextmanager
def gunicorn(project, venv, env, workers=2):
    """The project's web role as in the image: gunicorn.conf.py (uvicorn workers) serving config.asgi."""
    port = free_port()
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    with tempfile.NamedTemporaryFile(suffix=".stdout") as stdout:
        process = subprocess.Popen(
            [venv / "bin" / "gunicorn", "-c", "gunicorn.conf.py", "config.asgi:application"],
            cwd=project,
            env=env,
            stdout=stdout,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", process=process)
            yield Server(f"http://127.0.0.1:{port}", stdout.name, process)
        finally:
            process.terminate()
            process.wait(timeout=60)
