"""CloudWatch Embedded Metric Format records, written as one JSON line each.

A small writer rather than aws-embedded-metrics: building and writing a record here costs a fraction of the
library's per-record cost (bench/emf_writer.md in the template measures both), it never probes instance metadata,
and it writes exactly one line per request. CloudWatch Logs turns each line into metrics wherever it lands (the
awslogs driver on ECS, or the watchtower handler on other hosts); locally it is just a line on stdout.
"""

import json
import logging
import time

# One logger for every record: its handlers write the bare JSON line (stdout, and CloudWatch Logs when
# CLOUDWATCH_LOG_GROUP is set); it does not propagate, so the JSON log formatter never wraps a record.
emf_logger = logging.getLogger("observability.emf")  # logs.EMF_LOGGER
logger = logging.getLogger(__name__)

# CloudWatch's limits per directive and per record.
MAX_METRICS = 100
MAX_DIMENSIONS = 30
MAX_VALUES = 100


def directive(namespace, dimension_sets, units):
    """One CloudWatchMetrics directive: UNITS maps each metric name to its CloudWatch unit."""
    return {
        "Namespace": namespace,
        "Dimensions": [list(names) for names in dimension_sets],
        "Metrics": [{"Name": name, "Unit": unit} for name, unit in units.items()],
    }


def record(directives, values, timestamp_ms=None):
    """A whole EMF record: the _aws metadata, and every dimension, metric value and property at the root."""
    body = {"_aws": {"Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms}}
    body["_aws"]["CloudWatchMetrics"] = directives
    body.update(values)
    return body


def write(body):
    """Write one record as one line. Never raises: a lost metric must not fail the request that made it."""
    try:
        emf_logger.info(json.dumps(body, separators=(",", ":"), default=str))
    except Exception:
        logger.exception("could not write a metrics record")
