"""Small builders for OTLP requests, shared by `vitalsight demo`, the benchmark and tests.

They build the same messages a browser SDK sends (see docs/ARCHITECTURE.md), with
`opentelemetry-proto` types, so the bytes on the wire are real OTLP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import (
    SEVERITY_NUMBER_INFO,
    LogRecord,
    ResourceLogs,
    ScopeLogs,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

AttributeValue = str | bool | int | float
SCOPE = InstrumentationScope(name="vitalsight-sdk", version="0.1.0")


def any_value(value: AttributeValue) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=value)


def key_values(attributes: Mapping[str, AttributeValue]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attributes.items()]


def event(name: str, time_ns: int, attributes: Mapping[str, AttributeValue]) -> LogRecord:
    """An OTel event: a log record with `event_name` set."""
    return LogRecord(
        time_unix_nano=time_ns,
        observed_time_unix_nano=time_ns,
        event_name=name,
        severity_number=SEVERITY_NUMBER_INFO,
        severity_text="INFO",
        attributes=key_values(attributes),
    )


def client_span(
    *,
    trace_id: bytes,
    span_id: bytes,
    name: str,
    start_ns: int,
    duration_ns: int,
    attributes: Mapping[str, AttributeValue],
) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        name=name,
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + duration_ns,
        attributes=key_values(attributes),
    )


def logs_request(
    resource: Mapping[str, AttributeValue], records: Sequence[LogRecord]
) -> ExportLogsServiceRequest:
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=Resource(attributes=key_values(resource)),
                scope_logs=[ScopeLogs(scope=SCOPE, log_records=records)],
            )
        ]
    )


def traces_request(
    resource: Mapping[str, AttributeValue], spans: Sequence[Span]
) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=key_values(resource)),
                scope_spans=[ScopeSpans(scope=SCOPE, spans=spans)],
            )
        ]
    )
