"""Business metrics: count things and time them in views and task code; written at the end of the request or scope.

    from {{ cookiecutter.project_slug }}.observability import metrics

    metrics.count("NotesExported")          # +1
    metrics.count("RowsImported", len(rows))
    metrics.timing("ExportBuild", 12.5)     # milliseconds
    with metrics.timer("ExportBuild"):
        ...

Inside a request, the middleware writes them in the request's own EMF record. Task code (a Celery task, a
Lambda handler, a management command) wraps each piece of work in `with metrics.scope():`, which writes one record
when the block ends. Outside any scope, a call is logged as a warning and dropped.
"""

import contextlib
import contextvars
import logging
import re
import time

from django.conf import settings

from . import emf, names

logger = logging.getLogger(__name__)

# CloudWatch accepts 1-255 characters; names stay to letters, digits and a few separators to read well in alarms.
VALID_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,254}$")
RESERVED = {*names.REQUEST_METRICS, names.SERVICE, names.ENVIRONMENT, names.ROUTE}


class Collector:
    """Metrics of one request or scope: counts are summed, timings kept as a list of values."""

    def __init__(self):
        self.counts = {}
        self.timings = {}

    def __bool__(self):
        return bool(self.counts or self.timings)

    def directives_and_values(self, namespace):
        units = {name: "Count" for name in self.counts}
        units.update({name: "Milliseconds" for name in self.timings})
        values = dict(self.counts)
        # At most 100 values per metric in one record; the rest of a long series is dropped.
        values.update({name: timings[: emf.MAX_VALUES] for name, timings in self.timings.items()})
        directives = []
        items = list(units.items())
        for start in range(0, len(items), emf.MAX_METRICS):
            chunk = dict(items[start : start + emf.MAX_METRICS])
            directives.append(emf.directive(namespace, names.BUSINESS_DIMENSION_SETS, chunk))
        return directives, values


_current = contextvars.ContextVar("metrics_collector", default=None)


def _check(name):
    if not isinstance(name, str) or not VALID_NAME.match(name):
        raise ValueError(f"metric name {name!r} is invalid: use letters, digits, '_', '.', '-', starting with a letter")
    if name in RESERVED:
        raise ValueError(f"metric name {name!r} is taken by the request metrics: choose another name")


def _collector(name):
    _check(name)
    collector = _current.get()
    if collector is None:
        logger.warning("metric %s recorded outside a request or metrics.scope(); dropped", name)
    return collector


def count(name, value=1):
    collector = _collector(name)
    if collector is not None:
        collector.counts[name] = collector.counts.get(name, 0) + value


def timing(name, milliseconds):
    collector = _collector(name)
    if collector is not None:
        collector.timings.setdefault(name, []).append(round(float(milliseconds), 3))


@contextlib.contextmanager
def timer(name):
    started = time.perf_counter()
    try:
        yield
    finally:
        timing(name, (time.perf_counter() - started) * 1000)


def dimensions():
    return {
        names.SERVICE: settings.METRICS_SERVICE,
        names.ENVIRONMENT: settings.METRICS_ENVIRONMENT,
    }


@contextlib.contextmanager
def collecting():
    """A fresh collector for the block; yields it, so the caller decides how to write it."""
    collector = Collector()
    token = _current.set(collector)
    try:
        yield collector
    finally:
        _current.reset(token)


@contextlib.contextmanager
def scope(**properties):
    """Collect business metrics for one piece of work and write them as one record when it ends (even on error).

    PROPERTIES (a task id, say) are written into the record for searching in CloudWatch Logs Insights.
    """
    with collecting() as collector:
        try:
            yield collector
        finally:
            if collector:
                write(collector, properties)


def write(collector, properties):
    """One record of the collector's metrics; a failure is logged, never raised."""
    try:
        directives, values = collector.directives_and_values(settings.METRICS_NAMESPACE)
        emf.write(emf.record(directives, {**dimensions(), **properties, **values}))
    except Exception:
        logger.exception("could not write the business metrics")
