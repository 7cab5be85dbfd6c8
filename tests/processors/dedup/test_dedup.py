"""The dedup processor on real OTLP requests: replays within the window are dropped, later
ones kept, memory stays bounded, and distinct records are never merged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from tests.otlp_samples import RESOURCE, fetch_spans_request, vitals_request
from vitalsight.processors.dedup import DedupProcessor, build
from vitalsight.processors.dedup.config import DedupConfig
from vitalsight.processors.otlp_records import log_records, spans
from vitalsight.receivers.signals import LOGS, METRICS, TRACES
from vitalsight.service.otlp_build import AttributeValue, event, logs_request

T0 = 1_700_000_000_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def dedup(config: Mapping[str, Any] | None = None) -> tuple[DedupProcessor, Clock]:
    clock = Clock()
    return DedupProcessor(DedupConfig.model_validate(config or {}), clock=clock), clock


def replay(request: Any) -> Any:
    """The same request decoded again, as a retried export arrives."""
    copy = type(request)()
    copy.ParseFromString(request.SerializeToString())
    return copy


def count(request: Any) -> int:
    if isinstance(request, ExportLogsServiceRequest):
        return len(list(log_records(request)))
    return len(list(spans(request)))


def test_replayed_vitals_and_spans_within_the_window_are_dropped() -> None:
    p, clock = dedup({"window_seconds": 60})
    vitals, fetches = vitals_request("dup", count=5, time_ns=T0), fetch_spans_request("dup", 4)
    assert count(p.process(LOGS, replay(vitals))) == 5
    assert count(p.process(TRACES, replay(fetches))) == 4
    clock.now += 59
    assert count(p.process(LOGS, replay(vitals))) == 0
    assert count(p.process(TRACES, replay(fetches))) == 0
    assert p.stats.dropped == 9
    empty = p.process(LOGS, replay(vitals))
    assert len(empty.resource_logs) == 0  # no empty ResourceLogs left for the exporter


def test_replays_after_the_window_are_kept() -> None:
    p, clock = dedup({"window_seconds": 60})
    vitals = vitals_request("late", count=3, time_ns=T0)
    p.process(LOGS, replay(vitals))
    clock.now += 61
    assert count(p.process(LOGS, replay(vitals))) == 3
    assert p.stats.expired == 3 and p.stats.dropped == 0


def test_duplicates_inside_one_request_are_dropped() -> None:
    p, _ = dedup()
    record = vitals_request("same", count=1, time_ns=T0).resource_logs[0].scope_logs[0]
    request = logs_request(RESOURCE, [record.log_records[0]] * 3)
    assert count(p.process(LOGS, request)) == 1


def test_memory_is_bounded_by_max_entries_and_evicted_ids_fail_open() -> None:
    p, _ = dedup({"max_entries": 1_000})
    first = vitals_request("bound-a", count=1_000, time_ns=T0)
    p.process(LOGS, replay(first))
    for batch in range(5):
        p.process(LOGS, vitals_request(f"bound-{batch}", count=1_000, time_ns=T0))
        assert len(p) == 1_000
    assert p.stats.evicted == 5_000
    assert count(p.process(LOGS, replay(first))) == 1_000  # forgotten: kept


def test_window_memory_is_released_after_the_window() -> None:
    p, clock = dedup({"window_seconds": 10})
    p.process(LOGS, vitals_request("w", count=500, time_ns=T0))
    assert len(p) == 500
    clock.now += 11
    p.process(LOGS, ExportLogsServiceRequest())
    assert len(p) == 0


def vital(vital_id: str, value: float) -> LogRecord:
    attributes: dict[str, AttributeValue] = {
        "session.id": "s1",
        "browser.web_vital.name": "CLS",
        "browser.web_vital.id": vital_id,
        "browser.web_vital.value": value,
    }
    return event("browser.web_vital", T0, attributes)


def test_an_updated_vital_value_with_the_same_id_is_not_a_replay() -> None:
    p, _ = dedup()
    request = logs_request(
        RESOURCE, [vital("v4-1", 0.05), vital("v4-1", 0.12), vital("v4-1", 0.05)]
    )
    left = [r.attributes for _, r in log_records(p.process(LOGS, request))]
    assert len(left) == 2


def exception(session: str, time_ns: int, message: str) -> LogRecord:
    attributes: dict[str, AttributeValue] = {
        "session.id": session,
        "exception.type": "TypeError",
        "exception.message": message,
    }
    return event("exception", time_ns, attributes)


def test_other_records_are_identified_by_session_name_time_and_key_attributes() -> None:
    p, _ = dedup()
    records = [
        exception("s1", T0, "a"),
        exception("s1", T0, "a"),  # replay
        exception("s2", T0, "a"),  # other session
        exception("s1", T0 + 1, "a"),  # other time
        exception("s1", T0, "b"),  # other key attribute
    ]
    assert count(p.process(LOGS, logs_request(RESOURCE, records))) == 4
    # the session may sit on the resource
    on_resource = [event("browser.page_view", T0, {"browser.page.view_id": "pv"})] * 2
    request = logs_request({**RESOURCE, "session.id": "s9"}, on_resource)
    assert count(p.process(LOGS, request)) == 1


def test_records_without_session_or_time_and_spans_without_id_pass_through() -> None:
    p, _ = dedup()
    request = logs_request(RESOURCE, [LogRecord(), LogRecord()])
    assert count(p.process(LOGS, request)) == 2
    spans_request = fetch_spans_request("noid", 2)
    for _, span in spans(spans_request):
        span.span_id = b""
    assert count(p.process(TRACES, replay(spans_request))) == 2
    assert count(p.process(TRACES, replay(spans_request))) == 2
    assert p.stats.unkeyed == 6


def test_build_defaults_and_metrics_pass_through() -> None:
    p = build(None)
    assert p.config.window_seconds == 300 and p.config.max_entries == 100_000
    metrics = object()
    assert p.process(METRICS, metrics) is metrics
    assert count(p.process(TRACES, ExportTraceServiceRequest())) == 0
