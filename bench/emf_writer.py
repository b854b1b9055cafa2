"""Per-record cost of the generated project's EMF writer against aws-embedded-metrics (measured, never asserted).

    python bench/emf_writer.py PROJECT_DIR [RECORDS]

PROJECT_DIR is a generated project; run this with a Python that has its requirements and aws-embedded-metrics
3.5 installed. Both writers build the same request record (6 metrics, 2 dimension sets, 3 properties) and write
it to /dev/null; the result goes in bench/emf_writer.md.
"""

import io
import json
import logging
import os
import statistics
import sys
import timeit
from pathlib import Path

os.environ["AWS_EMF_ENVIRONMENT"] = "Local"  # stdout sink; never probe the instance metadata address
os.environ["AWS_EMF_NAMESPACE"] = "bench"

project = Path(sys.argv[1]).resolve()
records = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
sys.path.insert(0, str(project))
package = next(p.parent.parent.name for p in project.glob("*/observability/emf.py"))
emf = __import__(f"{package}.observability.emf", fromlist=["emf"])
names = __import__(f"{package}.observability.names", fromlist=["names"])

from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger  # noqa: E402

devnull = open(os.devnull, "w")  # noqa: SIM115 (lives for the whole run)
handler = logging.StreamHandler(devnull)
handler.setFormatter(logging.Formatter("%(message)s"))
emf.emf_logger.addHandler(handler)
emf.emf_logger.setLevel(logging.INFO)
emf.emf_logger.propagate = False

UNITS = {names.LATENCY: "Milliseconds", names.REQUESTS: "Count"}
UNITS.update(dict.fromkeys(names.STATUS_CLASSES.values(), "Count"))


def small_writer():
    values = {"Service": "web", "Environment": "bench", "Route": "notes:detail", names.LATENCY: 12.345}
    values.update({names.REQUESTS: 1, "Status2xx": 1, "Status3xx": 0, "Status4xx": 0, "Status5xx": 0})
    values.update({"StatusCode": 200, "Method": "GET", "RequestId": "0123456789abcdef0123456789abcdef"})
    emf.write(emf.record([emf.directive("bench", names.REQUEST_DIMENSION_SETS, UNITS)], values))


def library():
    metrics = create_metrics_logger()
    metrics.set_namespace("bench")
    metrics.set_dimensions(
        {"Service": "web", "Environment": "bench", "Route": "notes:detail"}, {"Service": "web", "Environment": "bench"}
    )
    metrics.put_metric(names.LATENCY, 12.345, "Milliseconds")
    for name, value in ((names.REQUESTS, 1), ("Status2xx", 1), ("Status3xx", 0), ("Status4xx", 0), ("Status5xx", 0)):
        metrics.put_metric(name, value, "Count")
    metrics.set_property("StatusCode", 200)
    metrics.set_property("Method", "GET")
    metrics.set_property("RequestId", "0123456789abcdef0123456789abcdef")
    metrics.flush_sync()


def one_line(function):
    """What one call writes, to check both produce a single record with the same metrics."""
    captured = io.StringIO()
    stdout, sys.stdout = sys.stdout, captured
    handler.setStream(captured)
    try:
        function()
    finally:
        sys.stdout = stdout
        handler.setStream(devnull)
    lines = captured.getvalue().splitlines()
    return len(lines), sorted(m["Name"] for m in json.loads(lines[0])["_aws"]["CloudWatchMetrics"][0]["Metrics"])


def measure(function):
    stdout, sys.stdout = sys.stdout, devnull  # the library's sink writes to sys.stdout
    try:
        runs = timeit.repeat(function, number=records, repeat=5)
    finally:
        sys.stdout = stdout
    return [run / records * 1e6 for run in runs]


if __name__ == "__main__":
    assert one_line(small_writer) == one_line(library), (one_line(small_writer), one_line(library))
    print(f"python {sys.version.split()[0]}, {records} records x 5 runs, microseconds per record (median, best)")
    for label, function in (("small writer", small_writer), ("aws-embedded-metrics", library)):
        runs = measure(function)
        print(f"{label:22} {statistics.median(runs):8.1f} {min(runs):8.1f}")
