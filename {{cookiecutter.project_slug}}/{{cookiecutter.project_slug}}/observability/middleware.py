"""One EMF record per request: latency, a count per status class, and the business metrics the view recorded.

First in MIDDLEWARE, so the latency covers every other middleware and every response (redirects, 404s, errors
turned into 500 pages) is counted. Health checks are answered but never counted: the load balancer's probes
would otherwise dominate the traffic numbers.
"""

import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.utils.log import log_response

from {{ cookiecutter.project_slug }}.health.middleware import HEALTH_VIEWS

from . import context, emf, metrics, names

logger = logging.getLogger(__name__)

EXCLUDED_PATHS = frozenset(HEALTH_VIEWS)
REQUEST_ID_HEADER = "X-Request-ID"


def route_of(request):
    """The URL name ('notes:detail'), else the route pattern; one shared value for paths that match nothing."""
    return context.route_name(getattr(request, "resolver_match", None)) or names.UNMATCHED_ROUTE


def status_class(status):
    return f"{status // 100}xx"


def request_record(request, status, milliseconds, collector):
    namespace = settings.METRICS_NAMESPACE
    units = {names.LATENCY: "Milliseconds", names.REQUESTS: "Count"}
    units.update(dict.fromkeys(names.STATUS_CLASSES.values(), "Count"))
    values = {
        **metrics.dimensions(),
        names.ROUTE: route_of(request),
        names.LATENCY: round(milliseconds, 3),
        names.REQUESTS: 1,
        **{metric: int(status_class(status) == label) for label, metric in names.STATUS_CLASSES.items()},
        # Properties, not metrics: searchable in CloudWatch Logs Insights next to the log lines.
        "StatusCode": status,
        "Method": request.method,
        "RequestId": context.request_id.get(),
    }
    directives = [emf.directive(namespace, names.REQUEST_DIMENSION_SETS, units)]
    if collector:
        business, business_values = collector.directives_and_values(namespace)
        directives += business
        values.update(business_values)
    return emf.record(directives, values)


class RequestMetricsMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        with context.bind(context.request_id_from_headers(request.headers), request=request) as request_id:
            if request.path_info in EXCLUDED_PATHS:
                return self.get_response(request)
            with metrics.collecting() as collector:
                started = time.perf_counter()
                response = None
                try:
                    response = self.get_response(request)
                finally:
                    self.finish(request, response, started, collector, request_id)
            return response

    async def __acall__(self, request):
        with context.bind(context.request_id_from_headers(request.headers), request=request) as request_id:
            if request.path_info in EXCLUDED_PATHS:
                return await self.get_response(request)
            with metrics.collecting() as collector:
                started = time.perf_counter()
                response = None
                try:
                    response = await self.get_response(request)
                finally:
                    self.finish(request, response, started, collector, request_id)
            return response

    def finish(self, request, response, started, collector, request_id):
        """Write the record and tag the response; a failure here is logged and the response still goes out."""
        milliseconds = (time.perf_counter() - started) * 1000
        try:
            # An exception that escaped every handler still reaches the client as a 500.
            status = response.status_code if response is not None else 500
            emf.write(request_record(request, status, milliseconds, collector))
            if response is not None:
                response.setdefault(REQUEST_ID_HEADER, request_id)
                # Django logs 4xx/5xx responses after the last middleware returns, where the request id is gone;
                # logged here, the line carries it (and Django skips its own, already-logged, copy).
                if status >= 400:
                    log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
        except Exception:
            logger.exception("could not record the request's metrics")
