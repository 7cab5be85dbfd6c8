"""The demo traffic: deterministic, on the data contract (docs/ARCHITECTURE.md), carrying the
story the report must find, and sent the way an OTLP/HTTP exporter sends."""

from __future__ import annotations

import gzip
import re
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from vitalsight.exporters.encode import flatten_attributes
from vitalsight.service.demo import (
    REGRESSION,
    SPIKING_ERROR,
    THRESHOLDS,
    DemoRequest,
    event_count,
    generate_demo,
    rating,
)
from vitalsight.service.demo_send import (
    API_KEY_HEADER,
    DemoSendError,
    retry_after_seconds,
    send_demo,
)

START_NS = 1_750_000_000_000_000_000
MINUTES = 30
SESSIONS_PER_MINUTE = 12

RESOURCE_REQUIRED = (
    "service.name",
    "service.version",
    "deployment.environment.name",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
    "user_agent.original",
    "user_agent.name",
    "user_agent.version",
    "user_agent.os.name",
    "device.type",
    "geo.country.iso_code",
)
CONTEXT_REQUIRED = (
    "session.id",
    "browser.page.view_id",
    "browser.page.route",
    "browser.page.url",
    "vitalsight.sample_rate",
)
EVENT_REQUIRED = {
    "browser.page_view": ("browser.page_view.type", "browser.page.url", "browser.page.referrer"),
    "browser.web_vital": (
        "browser.web_vital.name",
        "browser.web_vital.value",
        "browser.web_vital.rating",
        "browser.web_vital.delta",
        "browser.web_vital.id",
        "browser.web_vital.navigation_type",
    ),
    # exception.stacktrace is left out when the browser gave no stack (as sdk-js does)
    "exception": ("exception.type", "exception.message", "vitalsight.error.source"),
    "browser.long_task": (
        "browser.long_task.duration",
        "browser.long_task.type",
        "browser.long_task.blocking_duration",
        "browser.long_task.script_url",
        "browser.long_task.invoker",
    ),
    "browser.resource.timing": (
        "url.full",
        "browser.resource.initiator_type",
        "browser.resource.transfer_size",
        "browser.resource.encoded_body_size",
        "browser.resource.decoded_body_size",
        "browser.resource.duration",
        "browser.resource.render_blocking",
    ),
}
NAVIGATION_TIMING = tuple(
    f"browser.navigation_timing.{k}"
    for k in ("dns", "connect", "tls", "request", "response", "dom_processing", "load", "ttfb")
)
SPAN_REQUIRED = ("http.request.method", "url.full", "url.template", "server.address")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


def demo(**overrides: Any) -> list[DemoRequest]:
    options: dict[str, Any] = {
        "seed": 11,
        "minutes": MINUTES,
        "sessions_per_minute": SESSIONS_PER_MINUTE,
        "start_ns": START_NS,
        **overrides,
    }
    return list(generate_demo(**options))


@pytest.fixture(scope="module")
def requests() -> list[DemoRequest]:
    return demo()


def records(requests: list[DemoRequest]) -> Iterator[tuple[dict[str, str], dict[str, str], Any]]:
    """(resource attributes, record attributes, record) of every log record, as strings."""
    for request in requests:
        if isinstance(request, ExportLogsServiceRequest):
            for rl in request.resource_logs:
                resource = dict(flatten_attributes(rl.resource.attributes))
                for sl in rl.scope_logs:
                    for record in sl.log_records:
                        yield resource, dict(flatten_attributes(record.attributes)), record


def spans(requests: list[DemoRequest]) -> Iterator[tuple[dict[str, str], dict[str, str], Span]]:
    for request in requests:
        if isinstance(request, ExportTraceServiceRequest):
            for rs in request.resource_spans:
                resource = dict(flatten_attributes(rs.resource.attributes))
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        yield resource, dict(flatten_attributes(span.attributes)), span


def test_same_seed_same_bytes_other_seed_other_bytes(requests: list[DemoRequest]) -> None:
    again = demo()
    assert [r.SerializeToString() for r in again] == [r.SerializeToString() for r in requests]
    other = demo(seed=12)
    assert [r.SerializeToString() for r in other] != [r.SerializeToString() for r in requests]


def test_default_window_ends_now() -> None:
    before = time.time_ns()
    generated = list(generate_demo(seed=1, minutes=2, sessions_per_minute=3))
    after = time.time_ns()
    times = [record.time_unix_nano for _, _, record in records(generated)]
    assert times
    assert min(times) >= before - 2 * 60 * 10**9
    # records of a page view come up to a dwell time after its start, never far after now
    assert max(times) <= after + 10 * 60 * 10**9
    page_views = [
        record.time_unix_nano
        for _, _, record in records(generated)
        if record.event_name == "browser.page_view"
    ]
    assert max(page_views) <= after


def test_sessions_per_request_batches_resources(requests: list[DemoRequest]) -> None:
    batched = demo(sessions_per_request=20)
    assert len(batched) < len(requests)
    assert sum(map(event_count, batched)) == sum(map(event_count, requests))
    first = batched[0]
    assert isinstance(first, ExportLogsServiceRequest)
    # one ResourceLogs per session that recorded something (unsampled sessions rarely do)
    assert 10 < len(first.resource_logs) <= 20


def test_resources_and_context_follow_the_contract(requests: list[DemoRequest]) -> None:
    seen = 0
    for resource, attrs, record in records(requests):
        seen += 1
        for key in RESOURCE_REQUIRED:
            assert resource.get(key), (key, resource)
        assert resource["device.type"] in ("mobile", "tablet", "desktop")
        assert re.fullmatch(r"[A-Z]{2}", resource["geo.country.iso_code"])
        for key in CONTEXT_REQUIRED:
            assert attrs.get(key), (record.event_name, key)
        assert HEX32.match(attrs["session.id"])
        assert HEX16.match(attrs["browser.page.view_id"])
        assert attrs["browser.page.route"].startswith("/")
        assert "?" not in attrs["browser.page.url"] and "#" not in attrs["browser.page.url"]
        assert 0 < float(attrs["vitalsight.sample_rate"]) <= 1
        assert record.time_unix_nano > 0
    assert seen > 1000


def test_every_event_has_its_attributes(requests: list[DemoRequest]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for _, attrs, record in records(requests):
        name = record.event_name
        assert name in EVENT_REQUIRED, name
        counts[name] += 1
        for key in EVENT_REQUIRED[name]:
            assert attrs.get(key, "") != "", (name, key)
        if name == "browser.page_view":
            kind = attrs["browser.page_view.type"]
            assert kind in ("navigation", "route_change")
            if kind == "navigation":
                for key in NAVIGATION_TIMING:
                    assert float(attrs[key]) >= 0, key
        elif name == "browser.web_vital":
            vital = attrs["browser.web_vital.name"]
            value = float(attrs["browser.web_vital.value"])
            assert vital in THRESHOLDS
            assert value >= 0
            assert attrs["browser.web_vital.rating"] == rating(vital, value)
            assert any(k.startswith("browser.web_vital.attribution.") for k in attrs)
        elif name == "exception":
            assert attrs["vitalsight.error.source"] in ("error", "unhandledrejection", "console")
            stack = attrs.get("exception.stacktrace")
            assert stack is None or stack.startswith(attrs["exception.type"])
            assert record.severity_text == "ERROR"
        elif name == "browser.long_task":
            assert attrs["browser.long_task.type"] in ("longtask", "long-animation-frame")
            assert float(attrs["browser.long_task.duration"]) >= 50
        elif name == "browser.resource.timing":
            assert "?" not in attrs["url.full"]
            assert attrs["browser.resource.render_blocking"] in ("blocking", "non-blocking")
    assert set(counts) == set(EVENT_REQUIRED), counts


def test_fetch_spans_follow_the_contract(requests: list[DemoRequest]) -> None:
    statuses: set[int] = set()
    for resource, attrs, span in spans(requests):
        assert resource["service.name"]
        assert span.kind == Span.SPAN_KIND_CLIENT
        assert len(span.trace_id) == 16 and len(span.span_id) == 8
        assert span.end_time_unix_nano > span.start_time_unix_nano
        for key in (*SPAN_REQUIRED, *CONTEXT_REQUIRED):
            assert attrs.get(key), key
        assert span.name == f"{attrs['http.request.method']} {attrs['url.template']}"
        status = int(attrs.get("http.response.status_code", "0"))
        statuses.add(status)
        failed = status >= 400 or status == 0
        assert (span.status.code == Status.STATUS_CODE_ERROR) == failed
        assert ("error.type" in attrs) == failed
    assert {0, 200, 201, 404, 500, 504} <= statuses


def test_load_vitals_are_ordered_ttfb_fcp_lcp(requests: list[DemoRequest]) -> None:
    by_view: dict[str, dict[str, float]] = defaultdict(dict)
    for _, attrs, record in records(requests):
        if record.event_name == "browser.web_vital":
            by_view[attrs["browser.page.view_id"]][attrs["browser.web_vital.name"]] = float(
                attrs["browser.web_vital.value"]
            )
    complete = [v for v in by_view.values() if {"TTFB", "FCP", "LCP"} <= v.keys()]
    assert complete
    for v in complete:
        assert v["TTFB"] < v["FCP"] <= v["LCP"]


def p75(values: list[float]) -> float:
    return statistics.quantiles(values, n=4)[2]


def lcp_by_release(requests: list[DemoRequest], route: str) -> dict[str, list[float]]:
    values: dict[str, list[float]] = defaultdict(list)
    for resource, attrs, record in records(requests):
        if (
            record.event_name == "browser.web_vital"
            and attrs["browser.web_vital.name"] == "LCP"
            and resource["service.name"] == REGRESSION.app
            and attrs["browser.page.route"] == route
        ):
            values[resource["service.version"]].append(float(attrs["browser.web_vital.value"]))
    return values


def test_release_1_2_9_regresses_lcp_on_results_only(requests: list[DemoRequest]) -> None:
    results = lcp_by_release(requests, REGRESSION.route)
    old, new = results[REGRESSION.baseline_release], results[REGRESSION.release]
    assert len(old) >= 30 and len(new) >= 30
    assert p75(new) > 1.4 * p75(old)
    for route in ("/", "/product/:id"):
        other = lcp_by_release(requests, route)
        ratio = p75(other[REGRESSION.release]) / p75(other[REGRESSION.baseline_release])
        assert ratio < 1.3, (route, ratio)


def test_release_rolls_out_during_the_window(requests: list[DemoRequest]) -> None:
    third = MINUTES * 60 * 10**9 // 3
    share: dict[int, list[bool]] = defaultdict(list)
    for resource, _, record in records(requests):
        if resource["service.name"] == REGRESSION.app and record.event_name == "browser.page_view":
            part = min((record.time_unix_nano - START_NS) // third, 2)
            share[part].append(resource["service.version"] == REGRESSION.release)
    assert statistics.mean(share[0]) < 0.2
    assert statistics.mean(share[2]) > 0.6


def test_new_release_ships_a_bigger_bundle_and_a_new_error(requests: list[DemoRequest]) -> None:
    bundle: dict[str, set[int]] = defaultdict(set)
    errors: dict[str, int] = defaultdict(int)
    for resource, attrs, record in records(requests):
        if resource["service.name"] != REGRESSION.app:
            continue
        release = resource["service.version"]
        if record.event_name == "browser.resource.timing" and "/app." in attrs["url.full"]:
            bundle[release].add(int(attrs["browser.resource.decoded_body_size"]))
        if record.event_name == "exception" and attrs["exception.message"] == SPIKING_ERROR.message:
            errors[release] += 1
    assert min(bundle[REGRESSION.release]) > max(bundle[REGRESSION.baseline_release])
    assert errors[REGRESSION.release] >= 3 and errors[REGRESSION.baseline_release] == 0


def test_recommendations_is_the_slow_endpoint(requests: list[DemoRequest]) -> None:
    durations: dict[str, list[float]] = defaultdict(list)
    for _, attrs, span in spans(requests):
        durations[attrs["url.template"]].append(
            (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6
        )
    medians = {template: statistics.median(d) for template, d in durations.items()}
    assert max(medians, key=lambda t: medians[t]) == "/api/recommendations"


def test_sampled_app_keeps_errors_at_rate_1(requests: list[DemoRequest]) -> None:
    """docs-site records half its sessions (sample rate 0.5); errors are always kept."""
    rates: dict[str, set[str]] = defaultdict(set)
    for resource, attrs, record in records(requests):
        if resource["service.name"] == "docs-site":
            rates[record.event_name].add(attrs["vitalsight.sample_rate"])
    assert rates.pop("exception") == {"1"}
    assert rates and all(r == {"0.5"} for r in rates.values())
    for resource, attrs, _ in spans(requests):
        if resource["service.name"] == "docs-site":
            assert attrs["vitalsight.sample_rate"] == "0.5"


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None, default=1.5) == 1.5
    assert retry_after_seconds("garbage") == 1.0
    assert retry_after_seconds("3600") == 30.0  # bounded
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


class _Receiver(BaseHTTPRequestHandler):
    """Answers 429 (Retry-After: 0) to the first request, then accepts everything."""

    received: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []
    answers: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, dict(self.headers.items()), body))
        status = type(self).answers.pop(0) if type(self).answers else 200
        payload = ExportLogsServiceResponse().SerializeToString() if status == 200 else b"busy"
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received.clear()
    _Receiver.answers.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_send_demo_posts_gzip_protobuf_and_honours_retry_after(receiver: str) -> None:
    _Receiver.answers.extend([429])
    summary = send_demo(
        receiver, api_key="k3y", seed=3, minutes=2, sessions_per_minute=4, start_ns=START_NS
    )
    expected = demo(seed=3, minutes=2, sessions_per_minute=4)
    assert summary.retries == 1
    assert summary.requests == len(expected)
    assert summary.events == sum(map(event_count, expected))
    assert summary.rejected == 0
    assert f"{summary.events:,} events" in summary.describe()
    assert len(_Receiver.received) == len(expected) + 1  # one retried
    paths = {path for path, _, _ in _Receiver.received}
    assert paths == {"/v1/logs", "/v1/traces"}
    path, headers, body = _Receiver.received[-1]
    assert headers["Content-Type"] == "application/x-protobuf"
    assert headers["Content-Encoding"] == "gzip"
    assert headers[API_KEY_HEADER] == "k3y"
    decoded = (
        ExportLogsServiceRequest if path == "/v1/logs" else ExportTraceServiceRequest
    ).FromString(gzip.decompress(body))
    assert decoded == expected[-1]


def test_send_demo_stops_on_a_refusal(receiver: str) -> None:
    _Receiver.answers.extend([401])
    with pytest.raises(DemoSendError, match="401"):
        send_demo(receiver, seed=3, minutes=1, sessions_per_minute=2, start_ns=START_NS)


def test_send_demo_reports_an_unreachable_receiver() -> None:
    with pytest.raises(DemoSendError, match="cannot reach"):
        send_demo(
            "http://127.0.0.1:9",
            minutes=1,
            sessions_per_minute=1,
            start_ns=START_NS,
            max_retries=1,
            timeout_s=1.0,
        )
