import json
import logging

import pytest
from asgiref.sync import async_to_sync
from django.http import JsonResponse
from django.test import AsyncClient, override_settings
from django.urls import path

from .. import context, emf, logs, metrics, names
from ..middleware import route_of


class Records(logging.Handler):
    """Every EMF record written while installed, parsed."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(json.loads(record.getMessage()))


@pytest.fixture
def records():
    handler = Records()
    emf.emf_logger.addHandler(handler)
    yield handler.records
    emf.emf_logger.removeHandler(handler)


def exported(request):
    metrics.count("NotesExported")
    metrics.count("NotesExported", 2)
    metrics.timing("ExportBuild", 4.5)
    logging.getLogger("notes.export").info("exported")
    return JsonResponse({"ok": True})


def whoami(request):
    logging.getLogger("notes.whoami").info("user %s", request.user.is_authenticated)
    return JsonResponse({})


def broken(request):
    raise RuntimeError("view failed")


urlpatterns = [
    path("export/", exported, name="export"),
    path("broken/", broken),
    path("whoami/", whoami),
    path("healthz", lambda request: None),
]


def test_one_record_per_request_names_the_url_and_the_status_class(client, db, records):
    response = client.get("/notes/")
    assert response.status_code == 200
    [record] = records
    assert record["Route"] == "notes:list"
    assert (record["Requests"], record["Status2xx"], record["Status5xx"]) == (1, 1, 0)
    assert record["Service"] == "web"
    assert record["RequestId"] == response["X-Request-ID"]


def test_async_requests_are_recorded_once_too(db, records):
    response = async_to_sync(AsyncClient().get)("/no/such/page")
    assert response.status_code == 404
    [record] = records
    assert (record["Route"], record["Status4xx"]) == (names.UNMATCHED_ROUTE, 1)


def test_health_checks_are_never_counted(client, records):
    assert client.get("/healthz").status_code == 200
    assert records == []


def test_unknown_paths_share_one_route_value(client, records):
    for number in range(20):
        client.get(f"/unknown-{number}/")
    assert {record["Route"] for record in records} == {names.UNMATCHED_ROUTE}


@override_settings(ROOT_URLCONF=__name__)
def test_an_unnamed_route_is_recorded_by_its_pattern_and_an_error_as_5xx(client, records):
    client.raise_request_exception = False
    assert client.get("/broken/").status_code == 500
    [record] = records
    assert (record["Route"], record["Status5xx"]) == ("broken/", 1)


@override_settings(ROOT_URLCONF=__name__)
def test_business_metrics_travel_in_the_request_record(client, records):
    client.get("/export/")
    [record] = records
    business = record["_aws"]["CloudWatchMetrics"][1]
    assert business["Dimensions"] == [["Service", "Environment"]]
    units = {metric["Name"]: metric["Unit"] for metric in business["Metrics"]}
    assert units == {"NotesExported": "Count", "ExportBuild": "Milliseconds"}
    assert (record["NotesExported"], record["ExportBuild"]) == (3, [4.5])


def test_a_failing_writer_never_breaks_the_request(client, db, records, monkeypatch, caplog):
    def fail(*args, **kwargs):
        raise OSError("stdout is gone")

    monkeypatch.setattr(emf.emf_logger, "info", fail)
    assert client.get("/notes/").status_code == 200
    assert "could not write a metrics record" in caplog.text


def test_scope_writes_one_record_for_task_code(records):
    with metrics.scope(TaskId="t-1"):
        metrics.count("NotesExported")
        with metrics.timer("ExportBuild"):
            pass
    [record] = records
    assert (record["NotesExported"], record["TaskId"]) == (1, "t-1")
    assert len(record["ExportBuild"]) == 1


def test_a_scope_with_nothing_recorded_writes_nothing(records):
    with metrics.scope():
        pass
    assert records == []


def test_metrics_outside_a_scope_are_dropped_with_a_warning(records, caplog):
    metrics.count("NotesExported")
    assert records == []
    assert "outside a request" in caplog.text


@pytest.mark.parametrize("name", ["Requests", "Latency", "Route", "has space", "", "9lives"])
def test_reserved_and_malformed_metric_names_are_refused(name):
    with pytest.raises(ValueError, match="metric name"):
        metrics.count(name)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Request-ID": "abc-123"}, "abc-123"),
        ({"X-Amzn-Trace-Id": "Self=1-a-b;Root=1-6789-abcdef012345"}, "1-6789-abcdef012345"),
        ({"X-Request-ID": "bad id\n", "X-Amzn-Trace-Id": "Root=1-2-3"}, "1-2-3"),
    ],
)
def test_request_id_comes_from_the_client_or_the_load_balancer(headers, expected):
    assert context.request_id_from_headers(headers) == expected


def test_a_request_without_an_id_gets_a_new_one():
    first, second = context.request_id_from_headers({}), context.request_id_from_headers({})
    assert first != second
    assert len(first) == 32


class Lines(logging.Handler):
    """Log lines as the console handler formats them, parsed."""

    def __init__(self):
        super().__init__()
        self.lines = []
        self.setFormatter(logs.LogFormatter())
        self.addFilter(logs.RequestContextFilter())

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines():
    handler = Lines()
    loggers = [logging.getLogger(), logging.getLogger("django")]  # settings stop "django" propagating
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.lines
    for logger in loggers:
        logger.removeHandler(handler)


@override_settings(ROOT_URLCONF=__name__)
def test_log_lines_are_json_with_the_request_id_and_route(client, records, lines):
    response = client.get("/export/", headers={"X-Request-ID": "req-42"})
    [line] = [line for line in lines if line["logger"] == "notes.export"]
    assert response["X-Request-ID"] == "req-42"
    assert {key: line[key] for key in ("level", "message", "request_id", "route", "user_id")} == {
        "level": "INFO",
        "message": "exported",
        "request_id": "req-42",
        "route": "export",
        "user_id": None,
    }
    assert "time" in line
    assert (line["service"], line["environment"]) == ("web", "local")


@override_settings(ROOT_URLCONF=__name__)
def test_user_id_is_logged_once_authentication_has_looked_the_user_up(admin_client, admin_user, records, lines):
    admin_client.get("/whoami/")
    [line] = [line for line in lines if line["logger"] == "notes.whoami"]
    assert line["user_id"] == admin_user.pk


def test_error_responses_are_logged_with_the_request_id(client, records, lines):
    client.get("/no/such/page", headers={"X-Request-ID": "req-404"})
    [line] = [line for line in lines if line["logger"] == "django.request"]
    assert (line["level"], line["request_id"]) == ("WARNING", "req-404")


def test_route_of_a_request_that_matched_nothing_is_the_shared_value(rf):
    assert route_of(rf.get("/whatever")) == names.UNMATCHED_ROUTE
