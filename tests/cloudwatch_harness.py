"""CloudWatch without AWS: an Embedded Metric Format validator written from the specification, and a generated
project served by real gunicorn with uvicorn workers whose stdout is kept for reading records and log lines.

The EMF rules checked (CloudWatch_Embedded_Metric_Format_Specification): the root is a JSON object with an `_aws`
object holding `Timestamp` (milliseconds since the epoch, a number) and `CloudWatchMetrics` (an array of
MetricDirectives); a MetricDirective has a `Namespace` string, `Dimensions` (an array of DimensionSets, each an
array of at most 30 dimension keys, every key naming a string member of the root) and `Metrics` (at most 100
MetricDefinitions, each a `Name` whose value is a number or an array of at most 100 numbers at the root, an
optional `Unit` from CloudWatch's set, an optional `StorageResolution` of 1 or 60).
"""

import json
import os
import re
import subprocess
from pathlib import Path

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
    """A served project (services.served_app) and the file its stdout and stderr go to."""

    def __init__(self, url, stdout_path):
        self.url = url
        self.stdout_path = stdout_path

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


# CloudWatch dashboards: the body PutDashboard accepts (CloudWatch-Dashboard-Body-Structure), and terraform to
# evaluate the body a module builds.

WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer"}
METRIC_RENDERING = {"accountId", "color", "label", "id", "period", "region", "stat", "visible", "yAxis"}
STATISTIC = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d+)?|p100|tm\d+|tc\d+|ts\d+|wm\d+|IQM)$")


def dashboard_problems(body):
    """Every way BODY (the parsed dashboard_body) breaks the dashboard body structure; [] when PutDashboard takes it."""
    widgets = body.get("widgets") if isinstance(body, dict) else None
    if not isinstance(widgets, list) or not widgets:
        return ["widgets is missing, empty or not an array"]
    problems = []
    for number, widget in enumerate(widgets):
        where = f"widgets[{number}]"
        if widget.get("type") not in WIDGET_TYPES:
            problems.append(f"{where}.type {widget.get('type')!r} is not a widget type")
        for key, low, high in (("width", 1, 24), ("height", 1, 1000), ("x", 0, 23), ("y", 0, 10**6)):
            if key in widget and not (isinstance(widget[key], int) and low <= widget[key] <= high):
                problems.append(f"{where}.{key} must be a whole number from {low} to {high}")
        properties = widget.get("properties")
        if not isinstance(properties, dict):
            problems.append(f"{where}.properties is missing")
            continue
        if widget.get("type") != "metric":
            continue
        if not isinstance(properties.get("region"), str):
            problems.append(f"{where}: a metric widget needs its region")
        if "stat" in properties and not STATISTIC.match(str(properties["stat"])):
            problems.append(f"{where}.stat {properties['stat']!r} is not a statistic")
        if "period" in properties and (not isinstance(properties["period"], int) or properties["period"] % 60):
            problems.append(f"{where}.period must be a multiple of 60 seconds")
        metrics = properties.get("metrics")
        if not isinstance(metrics, list) or not metrics:
            problems.append(f"{where}.metrics is missing or empty")
            continue
        for metric in metrics:
            problems += [f"{where}: {problem}" for problem in metric_array_problems(metric)]
    return problems


def metric_array_problems(metric):
    """[Namespace, MetricName, dimension name, value, ..., {rendering}]; no shorthand ('.', '...') is used here."""
    if not isinstance(metric, list) or len(metric) < 2:
        return [f"metric {metric!r} is not [namespace, name, ...]"]
    parts, rendering = (metric[:-1], metric[-1]) if isinstance(metric[-1], dict) else (metric, {})
    problems = []
    if not all(isinstance(part, str) and part for part in parts):
        problems.append(f"metric {metric!r}: namespace, name and dimensions must be non-empty strings")
    if len(parts) % 2:
        problems.append(f"metric {metric!r}: dimensions come in name, value pairs")
    if len(parts) // 2 - 1 > MAX_DIMENSIONS:
        problems.append(f"metric {metric!r}: more than {MAX_DIMENSIONS} dimensions")
    unknown = set(rendering) - METRIC_RENDERING
    if unknown:
        problems.append(f"metric {metric!r}: unknown rendering options {sorted(unknown)}")
    if "stat" in rendering and not STATISTIC.match(str(rendering["stat"])):
        problems.append(f"metric {metric!r}: {rendering['stat']!r} is not a statistic")
    return problems


def dashboard_metrics(body):
    """(namespace, metric name, dimension names) of every metric a dashboard draws."""
    found = set()
    for widget in body["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            parts = metric[:-1] if isinstance(metric[-1], dict) else metric
            found.add((parts[0], parts[1], tuple(parts[2::2])))
    return found


# Resource attributes a module's locals may read; evaluated without AWS they become placeholders.
RESOURCE_ATTRIBUTE = re.compile(r"(?<![\w.\"])((?:data\.)?aws_[a-z0-9_]+\.[a-z0-9_]+\.[a-z_]+)")
LOCALS_BLOCK = re.compile(r"^locals \{\n.*?^\}\n", flags=re.DOTALL | re.MULTILINE)


def evaluate_locals(module, expression, variables, scratch, terraform):
    """EXPRESSION over MODULE's locals and variables, evaluated by `terraform console` with VARIABLES as tfvars.

    Only the locals blocks are copied, with resource attributes replaced by placeholder strings, so no provider
    (and no `terraform init`) is needed.
    """
    blocks = LOCALS_BLOCK.findall((module / "main.tf").read_text())
    (scratch / "main.tf").write_text(RESOURCE_ATTRIBUTE.sub('"placeholder"', "\n".join(blocks)))
    (scratch / "variables.tf").write_text((module / "variables.tf").read_text())
    (scratch / "terraform.tfvars.json").write_text(json.dumps(variables))
    result = subprocess.run(
        [terraform, "console"],
        input=f"jsonencode({expression})\n",
        cwd=scratch,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"terraform console failed:\n{result.stderr}")
    return json.loads(json.loads(result.stdout.strip().splitlines()[-1]))
