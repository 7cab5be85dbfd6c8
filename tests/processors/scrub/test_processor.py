"""scrub processor: zero leaks on the PII corpus, no false masking, fail closed, filters,
counts. Requests are real OTLP protobuf messages; leaks are searched in serialized bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Exemplar,
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Status
from prometheus_client import CollectorRegistry

from tests.otlp_samples import CONTEXT, RESOURCE, fetch_spans_request, vitals_request
from vitalsight.processors import scrub
from vitalsight.processors.otlp_records import get_str, log_records, spans
from vitalsight.processors.scrub import ScrubProcessor, build
from vitalsight.receivers.signals import LOGS, METRICS, TRACES, Signal
from vitalsight.service.otlp_build import (
    AttributeValue,
    any_value,
    client_span,
    event,
    key_values,
    logs_request,
    traces_request,
)

CORPUS = yaml.safe_load((Path(__file__).parent / "pii_corpus.yaml").read_text())
CONFIG = yaml.safe_load((Path(scrub.__file__).parent / "testdata" / "config.yaml").read_text())
SECRETS: list[dict[str, Any]] = CORPUS["secrets"]
ORDINARY: list[str] = CORPUS["ordinary"]
TIME = 1_764_065_730_000_000_000


def processor(**overrides: Any) -> ScrubProcessor:
    return build({**CONFIG, **overrides})


def kvlist(values: dict[str, AttributeValue]) -> AnyValue:
    return AnyValue(kvlist_value=KeyValueList(values=key_values(values)))


def array(*values: AttributeValue) -> AnyValue:
    return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in values]))


def stack(text: str) -> str:
    return f"Error: {text}\n    at handler (https://cdn.shop.example/app.js:1:2048)"


def planted_logs(text: str) -> ExportLogsServiceRequest:
    """`text` in every string place of a logs request a browser could fill."""
    exception = event(
        "exception",
        TIME,
        {
            **CONTEXT,
            "exception.type": "Error",
            "exception.message": text,
            "exception.stacktrace": stack(text),
            "app.note": text,
            "browser.page.url": f"https://shop.example/p/{text}?q={text}#{text}",
            "url.query": f"q={text}",
        },
    )
    exception.body.CopyFrom(kvlist({"message": text, "detail": text}))
    exception.body.kvlist_value.values.add(key="lines", value=array(text, text))
    console = event("browser.console", TIME, CONTEXT)
    console.body.CopyFrom(AnyValue(string_value=text))
    raw = LogRecord(time_unix_nano=TIME, body=AnyValue(bytes_value=text.encode()))
    request = logs_request({**RESOURCE, "app.owner": text}, [exception, console, raw])
    scope = request.resource_logs[0].scope_logs[0].scope
    scope.attributes.add(key="scope.note", value=AnyValue(string_value=text))
    return request


def planted_traces(text: str) -> ExportTraceServiceRequest:
    span = client_span(
        trace_id=bytes(range(16)),
        span_id=bytes(range(8)),
        name=text,
        start_ns=TIME,
        duration_ns=1_000_000,
        attributes={**CONTEXT, "http.request.method": "GET", "url.full": text, "app.note": text},
    )
    span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message=text))
    span.events.add(name="exception", time_unix_nano=TIME).attributes.extend(
        key_values({"exception.message": text, "exception.stacktrace": stack(text)})
    )
    span.links.add(trace_id=bytes(16), span_id=bytes(8)).attributes.extend(
        key_values({"link.note": text})
    )
    return traces_request({**RESOURCE, "app.owner": text}, [span])


def planted_metrics(text: str) -> ExportMetricsServiceRequest:
    point = NumberDataPoint(time_unix_nano=TIME, as_double=1.0, attributes=key_values({"a": text}))
    point.exemplars.append(
        Exemplar(time_unix_nano=TIME, as_double=1.0, filtered_attributes=key_values({"b": text}))
    )
    metric = Metric(name="app.clicks", gauge=Gauge(data_points=[point]))
    return ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=Resource(attributes=key_values({**RESOURCE, "app.owner": text})),
                scope_metrics=[ScopeMetrics(metrics=[metric])],
            )
        ]
    )


PLANTERS: dict[str, tuple[Signal, Callable[[str], Any]]] = {
    "logs": (LOGS, planted_logs),
    "traces": (TRACES, planted_traces),
    "metrics": (METRICS, planted_metrics),
}


@pytest.mark.parametrize("signal_name", sorted(PLANTERS))
@pytest.mark.parametrize("secret", SECRETS, ids=lambda s: f"{s['kind']}:{s['text'][:24]}")
def test_no_planted_secret_survives(signal_name: str, secret: dict[str, Any]) -> None:
    signal, plant = PLANTERS[signal_name]
    request = plant(secret["text"])
    before = request.SerializeToString()
    items = signal.count_items(request)
    scrubber = processor()

    data = scrubber.process(signal, request).SerializeToString()

    for planted in secret["vanish"]:
        assert planted.encode() in before  # the test really planted it
        assert planted.encode() not in data, f"{planted!r} leaked"
    assert secret["token"].encode() in data
    assert signal.count_items(request) == items  # masked, not dropped
    assert sum(scrubber.stats.redactions.values()) > 0


def test_every_kind_is_in_the_corpus() -> None:
    kinds = {s["kind"] for s in SECRETS}
    assert set(scrub.config.KINDS) <= kinds
    assert {"stack", "custom"} <= kinds


def test_free_text_gets_the_replacement_token() -> None:
    scrubber = processor()
    for secret in SECRETS:
        request = planted_logs(secret["text"])
        scrubber.process(LOGS, request)
        _, record = next(log_records(request))
        note = get_str(record.attributes, "app.note") or ""
        assert secret["token"] in note, (secret["text"], note)


@pytest.mark.parametrize("entry", CORPUS["secret_keys"], ids=lambda e: e["key"])
def test_secret_keys_lose_their_whole_value(entry: dict[str, Any]) -> None:
    key, value = entry["key"], entry["value"]
    record = event("app.event", TIME, {**CONTEXT, key: value})
    record.body.CopyFrom(kvlist({"headers": "x"}))
    record.body.kvlist_value.values.add(key=key, value=any_value(value))
    request = logs_request(RESOURCE, [record])
    scrubber = processor()

    data = scrubber.process(LOGS, request).SerializeToString()

    _, stored = next(log_records(request))
    assert get_str(stored.attributes, key) == "[redacted]"
    assert str(value).encode() not in data
    assert scrubber.stats.redactions["secret_key"] == 2


@pytest.mark.parametrize("entry", CORPUS["urls"], ids=lambda e: e["url"][:40])
@pytest.mark.parametrize(
    "key", ["url.full", "http.url", "browser.page.url", "browser.page.referrer"]
)
def test_url_attributes(entry: dict[str, Any], key: str) -> None:
    request = logs_request(RESOURCE, [event("browser.page_view", TIME, {key: entry["url"]})])
    data = processor().process(LOGS, request).SerializeToString()
    _, record = next(log_records(request))
    assert get_str(record.attributes, key) == entry["expect"]
    for planted in entry["vanish"]:
        assert planted.encode() not in data


def test_bare_query_and_fragment_attributes_keep_only_allowed_params() -> None:
    attributes = {"url.query": "q=jane&page=2&token=x9", "url.fragment": "section-2"}
    request = logs_request(RESOURCE, [event("app.event", TIME, attributes)])
    scrubber = processor()
    scrubber.process(LOGS, request)
    _, record = next(log_records(request))
    assert get_str(record.attributes, "url.query") == "page=2"
    assert get_str(record.attributes, "url.fragment") == ""
    assert scrubber.stats.redactions["url_query"] == 2


def test_ordinary_values_are_not_masked() -> None:
    attributes = {f"app.value_{i}": value for i, value in enumerate(ORDINARY)}
    record = event("app.event", TIME, {**CONTEXT, **attributes})
    record.body.CopyFrom(array(*ORDINARY))
    logs = logs_request(RESOURCE, [record])
    span = client_span(
        trace_id=bytes(range(16)),
        span_id=bytes(range(8)),
        name="GET /api/search/1001",
        start_ns=TIME,
        duration_ns=1,
        attributes=attributes,
    )
    traces = traces_request(RESOURCE, [span])
    expected_logs, expected_traces = logs.SerializeToString(), traces.SerializeToString()
    scrubber = processor()

    scrubber.process(LOGS, logs)
    scrubber.process(TRACES, traces)

    _, stored = next(log_records(logs))
    for i, value in enumerate(ORDINARY):
        assert get_str(stored.attributes, f"app.value_{i}") == value
    assert logs.SerializeToString() == expected_logs
    assert traces.SerializeToString() == expected_traces
    assert not scrubber.stats.redactions


def test_numbers_are_left_alone_but_integer_cards_are_masked() -> None:
    attributes: dict[str, AttributeValue] = {
        "browser.web_vital.value": 1834.5,
        "browser.navigation_timing.load": 2300,
        "app.created_ms": 1_764_065_730_123,
        "app.order_no": 4_111_111_111_111_112,  # fails Luhn
        "app.card": 4_111_111_111_111_111,
        "browser.mobile": True,
    }
    request = logs_request(RESOURCE, [event("app.event", TIME, attributes)])
    processor().process(LOGS, request)
    _, record = next(log_records(request))
    values = {kv.key: kv.value for kv in record.attributes}
    assert values["browser.web_vital.value"].double_value == 1834.5
    assert values["browser.navigation_timing.load"].int_value == 2300
    assert values["app.created_ms"].int_value == 1_764_065_730_123
    assert values["app.order_no"].int_value == 4_111_111_111_111_112
    assert values["app.card"].string_value == "[card]"
    assert values["browser.mobile"].bool_value is True


def test_secret_keys_are_masked_whatever_the_value_type() -> None:
    # The fast path skips numbers and booleans; a secret key's value must not take it.
    attributes: dict[str, AttributeValue] = {
        "user.password": 123456,
        "app.otp": 1.5,
        "app.api_key": True,
        "app.count": 7.25,
    }
    request = logs_request(RESOURCE, [event("app.event", TIME, attributes)])
    scrubber = processor()
    scrubber.process(LOGS, request)
    _, record = next(log_records(request))
    values = {kv.key: kv.value for kv in record.attributes}
    for key in ("user.password", "app.otp", "app.api_key"):
        assert values[key].string_value == "[redacted]", key
    assert values["app.count"].double_value == 7.25
    assert scrubber.stats.redactions["secret_key"] == 3


def test_never_touch_keys_and_ids_are_kept_byte_for_byte() -> None:
    # Absurd values on purpose: a never-touch key is not even read.
    keep: dict[str, AttributeValue] = {
        "session.id": "jane@example.com",
        "browser.page.view_id": "203.0.113.9",
        "vitalsight.sample_rate": 0.25,
        "user_agent.version": "126.0.0.0",
    }
    request = logs_request(
        {**RESOURCE, "telemetry.sdk.version": "4111 1111 1111 1111"},
        [event("browser.page_view", TIME, keep)],
    )
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    record.trace_id = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
    before = request.SerializeToString()
    scrubber = processor()
    assert scrubber.process(LOGS, request).SerializeToString() == before
    assert not scrubber.stats.redactions


def test_realistic_requests_keep_their_context() -> None:
    logs = vitals_request("m1", count=3)
    expected = logs.SerializeToString()
    scrubber = processor()
    scrubber.process(LOGS, logs)
    assert logs.SerializeToString() == expected

    traces = fetch_spans_request("alice@example.com", count=2)
    scrubber.process(TRACES, traces)
    urls = [get_str(span.attributes, "url.full") for _, span in spans(traces)]
    assert urls == [
        "https://api.shop.example/api/search/1000",
        "https://api.shop.example/api/search/1001",
    ]
    assert b"alice@example.com" not in traces.SerializeToString()
    assert scrubber.stats.redactions["url_query"] == 2


def test_scrub_is_idempotent() -> None:
    request = planted_logs(SECRETS[0]["text"] + " " + SECRETS[10]["text"])
    first = processor().process(LOGS, request).SerializeToString()
    again = processor()
    assert again.process(LOGS, request).SerializeToString() == first
    assert not again.stats.redactions


def test_a_record_that_fails_to_scrub_is_dropped_not_stored() -> None:
    scrubber = processor()
    good = event("app.event", TIME, {"app.note": "fine"})
    bad = event("app.event", TIME, {"app.note": "explode jane@example.com"})
    request = logs_request(RESOURCE, [good, bad])
    original = scrubber.scrub_text

    def failing(text: str, counts: Any) -> str:
        if text.startswith("explode"):
            raise RuntimeError("boom")
        return original(text, counts)

    scrubber.scrub_text = failing  # type: ignore[method-assign]
    data = scrubber.process(LOGS, request).SerializeToString()

    assert LOGS.count_items(request) == 1
    assert b"jane@example.com" not in data
    assert scrubber.stats.dropped == {("logs", "error"): 1}


def test_a_resource_that_fails_to_scrub_drops_its_spans() -> None:
    scrubber = processor(cache_size=0)
    request = planted_traces("explode")
    original = scrubber.scrub_text

    def failing(text: str, counts: Any) -> str:
        if text == "explode":
            raise RuntimeError("boom")
        return original(text, counts)

    scrubber.scrub_text = failing  # type: ignore[method-assign]
    scrubber.process(TRACES, request)
    assert TRACES.count_items(request) == 0
    assert scrubber.stats.dropped == {("traces", "error"): 1}


def test_undecodable_bytes_body_is_redacted() -> None:
    record = LogRecord(time_unix_nano=TIME, body=AnyValue(bytes_value=b"\xff\xfejane"))
    request = logs_request(RESOURCE, [record])
    processor().process(LOGS, request)
    assert request.resource_logs[0].scope_logs[0].log_records[0].body.bytes_value == b"[redacted]"


def test_url_filters_drop_denied_records_and_count_them() -> None:
    scrubber = processor()  # "*" denies /admin and /reset-password
    records = [
        event("browser.page_view", TIME, {"browser.page.url": "https://shop.example/admin/users"}),
        event(
            "browser.page_view", TIME, {"browser.page.url": "https://shop.example/reset-password"}
        ),
        event("browser.page_view", TIME, {"browser.page.url": "https://shop.example/cart"}),
        event("exception", TIME, {"exception.message": "no url"}),
    ]
    request = logs_request(RESOURCE, records)
    scrubber.process(LOGS, request)
    kept = [get_str(r.attributes, "browser.page.url") for _, r in log_records(request)]
    assert kept == ["https://shop.example/cart", None]
    assert scrubber.stats.dropped == {("logs", "denied"): 2}


def test_url_filters_allow_list_per_app_and_resource_fallback() -> None:
    scrubber = processor()  # checkout-web allows only https://checkout.shop.example/
    inside = {"url.full": "https://checkout.shop.example/api/pay", "http.request.method": "POST"}
    outside = {"url.full": "https://tracker.example/collect", "http.request.method": "GET"}
    spans_ = [
        client_span(
            trace_id=bytes(16),
            span_id=bytes(8),
            name="x",
            start_ns=TIME,
            duration_ns=1,
            attributes=attrs,
        )
        for attrs in (inside, outside)
    ]
    checkout = traces_request({**RESOURCE, "service.name": "checkout-web"}, spans_)
    scrubber.process(TRACES, checkout)
    assert [get_str(s.attributes, "url.full") for _, s in spans(checkout)] == [inside["url.full"]]

    other_app = traces_request(RESOURCE, spans_)
    scrubber.process(TRACES, other_app)
    assert TRACES.count_items(other_app) == 2

    # page URL on the resource (constant context) is checked too
    admin = logs_request(
        {**RESOURCE, "browser.page.url": "https://shop.example/admin"},
        [event("browser.web_vital", TIME, {"browser.web_vital.name": "LCP"})],
    )
    scrubber.process(LOGS, admin)
    assert LOGS.count_items(admin) == 0
    assert scrubber.stats.dropped == {("traces", "denied"): 1, ("logs", "denied"): 1}


def test_counts_are_exported_to_prometheus() -> None:
    registry = CollectorRegistry()
    scrubber = build(CONFIG, registry=registry)
    scrubber.process(LOGS, planted_logs("mail jane@example.com from 203.0.113.42"))
    redacted = scrubber.stats.redactions
    assert redacted["email"] > 0 and redacted["ip"] > 0
    for kind in ("email", "ip", "url_query"):
        sample = registry.get_sample_value("vitalsight_scrub_redactions_total", {"kind": kind})
        assert sample == redacted[kind]
    scrubber.process(
        LOGS, logs_request(RESOURCE, [event("x", TIME, {"url.full": "https://a.example/admin"})])
    )
    labels = {"signal": "logs", "reason": "denied"}
    assert registry.get_sample_value("vitalsight_scrub_dropped_total", labels) == 1


def test_detect_subset_leaves_other_kinds() -> None:
    scrubber = processor(detect=["email"])
    out = scrubber.scrub_text("jane@example.com at 203.0.113.42", scrubber.stats.redactions)
    assert out == "[email] at 203.0.113.42"


def test_custom_pattern_counts_under_its_name() -> None:
    scrubber = processor()
    scrubber.process(LOGS, planted_logs("CUST-0042137"))
    assert scrubber.stats.redactions["customer_id"] > 0


def test_empty_secret_lists_mask_nothing_extra() -> None:
    scrubber = processor(secret_keys=[], secret_params=[])
    record = event("app.event", TIME, {"app.note": "a=1&b=2", "user.password": "x"})
    request = logs_request(RESOURCE, [record])
    scrubber.process(LOGS, request)
    _, stored = next(log_records(request))
    assert get_str(stored.attributes, "app.note") == "a=1&b=2"
    assert get_str(stored.attributes, "user.password") == "x"


def test_url_host_is_kept_and_credentials_before_it_are_masked() -> None:
    """A host (even an IP) names a server, not a person; user:password@ is a secret."""
    request = vitals_request("host", 1)
    attributes = request.resource_logs[0].scope_logs[0].log_records[0].attributes
    set_url = {
        "browser.page.url": "http://10.1.2.3:8080/results?q=a@b.example",
        "url.full": "https://admin:hunter2@api.example/v1/users/jane@example.com",
    }
    for kv in attributes:
        if kv.key in set_url:
            kv.value.string_value = set_url.pop(kv.key)
    for key, value in set_url.items():
        attributes.add(key=key).value.string_value = value
    processor().process(LOGS, request)
    ((_, record),) = list(log_records(request))
    assert get_str(record.attributes, "browser.page.url") == "http://10.1.2.3:8080/results"
    scrubbed = get_str(record.attributes, "url.full") or ""
    assert scrubbed.startswith("https://[redacted]@api.example/v1/users/")
    assert "hunter2" not in scrubbed and "jane@example.com" not in scrubbed
