"""Encoding: OTLP export requests → column batches for the raw OTel tables.

The flattening follows the OTel Collector ClickHouse exporter: attribute values become
strings (arrays and maps as JSON), ids become lower-case hex, enums keep their proto names.
Resource and scope attributes are flattened once per resource / scope, not per record.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from vitalsight.exporters.batch import ColumnBatch
from vitalsight.exporters.map_column import MapColumn
from vitalsight.exporters.repeated_column import RepeatedColumn
from vitalsight.exporters.tables import (
    ATTRIBUTES,
    OTEL_LOGS,
    OTEL_METRICS_GAUGE,
    OTEL_METRICS_HISTOGRAM,
    OTEL_METRICS_SUM,
    OTEL_TRACES,
)

Attributes = list[tuple[str, str]]
KeyValues = tuple[Sequence[str], list[str]]  # an attribute list's keys and string values

EVENT_NAME_ATTRIBUTE = "event.name"
SERVICE_NAME_ATTRIBUTE = "service.name"
_SPAN_KINDS = {value: name for name, value in Span.SpanKind.items()}
_STATUS_CODES = {value: name for name, value in Status.StatusCode.items()}
UNSTORED_METRIC_KINDS = ("exponential_histogram", "summary")
# Columns that hold one value per resource or per scope, repeated on each of its rows.
_LOG_RESOURCE_COLUMNS = ("ServiceName", "ResourceSchemaUrl", "ResourceAttributes")
_LOG_SCOPE_COLUMNS = ("ScopeSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes")
_SPAN_RESOURCE_COLUMNS = ("ServiceName", "ResourceAttributes")
_SPAN_SCOPE_COLUMNS = ("ScopeName", "ScopeVersion")


def any_value_to_str(value: AnyValue) -> str:
    """Stringify an AnyValue the way the collector's ClickHouse exporter does."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "double_value":  # numbers first: vital values, timings, sizes, status codes
        return repr(value.double_value)
    if kind == "int_value":
        return str(value.int_value)
    if kind is None:
        return ""
    if kind in ("array_value", "kvlist_value"):
        return json.dumps(_any_value_to_python(value), separators=(",", ":"))
    return _scalar_to_str(value, kind)


def _scalar_to_str(value: AnyValue, kind: str) -> str:
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return repr(value.double_value)
    return base64.b64encode(value.bytes_value).decode("ascii")


def _any_value_to_python(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_any_value_to_python(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _any_value_to_python(kv.value) for kv in value.kvlist_value.values}
    if kind in ("string_value", "bool_value", "int_value", "double_value"):
        return getattr(value, kind)
    return any_value_to_str(value)


def flatten_attributes(attributes: Iterable[KeyValue]) -> Attributes:
    """Attributes as (key, string value) pairs, the Map(String, String) layout."""
    return list(zip(*read_key_values(attributes), strict=True))


def read_key_values(attributes: Iterable[KeyValue]) -> KeyValues:
    """Attributes as their keys and their string values (the Map(String, String) layout,
    unzipped: `MapColumn.add_row` takes them as they are)."""
    keys = []
    values = []
    for kv in attributes:  # the hot loop of ingest: strings, then numbers, take short paths
        keys.append(kv.key)
        value = kv.value
        values.append(value.string_value or any_value_to_str(value))
    return keys, values


@dataclass(frozen=True)
class WalkedAttributes:
    """A logs or traces request's attributes already flattened by whoever walked it (the
    processors' shared view), in request order: one (keys, values) per resource, one per
    record. The encoder then reads them from here instead of from the request again."""

    resources: list[KeyValues]
    records: list[KeyValues]


def _walked_or_read(walked: WalkedAttributes | None) -> tuple[Any, Any]:
    """Functions giving the next resource's and next record's keys and values."""
    if walked is None:
        return read_key_values, read_key_values
    resources, records = iter(walked.resources), iter(walked.records)
    return (lambda _: next(resources)), (lambda _: next(records))


def _lookup(key_values: KeyValues, key: str) -> str:
    keys, values = key_values
    return values[keys.index(key)] if key in keys else ""


def _new_batch(table: str, layout: dict[str, Any]) -> ColumnBatch:
    return ColumnBatch(
        table, {name: MapColumn() if kind == ATTRIBUTES else [] for name, kind in layout.items()}
    )


class _Repeated:
    """The columns of one level (resource or scope) of a batch, made `RepeatedColumn`s in
    place and filled together."""

    def __init__(self, columns: dict[str, Any], names: tuple[str, ...]) -> None:
        self._columns = [RepeatedColumn(columns[name]) for name in names]
        columns.update(zip(names, self._columns, strict=True))

    def add(self, *values: Any) -> int:
        """One resource's or scope's values, in the order of the names; its index."""
        index = 0
        for column, value in zip(self._columns, values, strict=True):
            index = column.add(value)  # the same in every column of the level
        return index

    def repeat(self, index: int, count: int) -> None:
        for column in self._columns:
            column.repeat(index, count)


def encode_logs(
    request: ExportLogsServiceRequest,
    *,
    now_ns: int | None = None,
    walked: WalkedAttributes | None = None,
) -> ColumnBatch:
    """Flatten logs (events included) into `otel_logs` columns."""
    batch = _new_batch("otel_logs", OTEL_LOGS)
    cols = batch.columns
    resources = _Repeated(cols, _LOG_RESOURCE_COLUMNS)
    scopes = _Repeated(cols, _LOG_SCOPE_COLUMNS)
    received_ns = now_ns if now_ns is not None else time.time_ns()
    resource_attributes, record_attributes = _walked_or_read(walked)
    for resource_logs in request.resource_logs:
        resource_attrs = resource_attributes(resource_logs.resource.attributes)
        resource = resources.add(
            _lookup(resource_attrs, SERVICE_NAME_ATTRIBUTE),
            resource_logs.schema_url,
            resource_attrs,
        )
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            scope_index = scopes.add(
                scope_logs.schema_url, scope.name, scope.version, read_key_values(scope.attributes)
            )
            records = scope_logs.log_records
            for record in records:
                attrs = record_attributes(record.attributes)
                event_name = record.event_name or _lookup(attrs, EVENT_NAME_ATTRIBUTE)
                cols["Timestamp"].append(
                    record.time_unix_nano or record.observed_time_unix_nano or received_ns
                )
                cols["TraceId"].append(record.trace_id.hex())
                cols["SpanId"].append(record.span_id.hex())
                cols["TraceFlags"].append(record.flags & 0xFF)
                cols["SeverityText"].append(record.severity_text)
                cols["SeverityNumber"].append(record.severity_number)
                cols["Body"].append(any_value_to_str(record.body))
                cols["LogAttributes"].add_row(*attrs)
                cols["EventName"].append(event_name)
            resources.repeat(resource, len(records))
            scopes.repeat(scope_index, len(records))
    return batch


def encode_traces(
    request: ExportTraceServiceRequest, *, walked: WalkedAttributes | None = None
) -> ColumnBatch:
    """Flatten spans, with their events and links, into `otel_traces` columns."""
    batch = _new_batch("otel_traces", OTEL_TRACES)
    cols = batch.columns
    resources = _Repeated(cols, _SPAN_RESOURCE_COLUMNS)
    scopes = _Repeated(cols, _SPAN_SCOPE_COLUMNS)
    resource_attributes, span_attributes = _walked_or_read(walked)
    for resource_spans in request.resource_spans:
        resource_attrs = resource_attributes(resource_spans.resource.attributes)
        resource = resources.add(_lookup(resource_attrs, SERVICE_NAME_ATTRIBUTE), resource_attrs)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            scope_index = scopes.add(scope.name, scope.version)
            spans = scope_spans.spans
            for span in spans:
                cols["Timestamp"].append(span.start_time_unix_nano)
                cols["TraceId"].append(span.trace_id.hex())
                cols["SpanId"].append(span.span_id.hex())
                cols["ParentSpanId"].append(span.parent_span_id.hex())
                cols["TraceState"].append(span.trace_state)
                cols["SpanName"].append(span.name)
                cols["SpanKind"].append(_SPAN_KINDS.get(span.kind, ""))
                cols["SpanAttributes"].add_row(*span_attributes(span.attributes))
                cols["Duration"].append(max(span.end_time_unix_nano - span.start_time_unix_nano, 0))
                cols["StatusCode"].append(_STATUS_CODES.get(span.status.code, ""))
                cols["StatusMessage"].append(span.status.message)
                _append_span_events(cols, span)
                _append_span_links(cols, span)
            resources.repeat(resource, len(spans))
            scopes.repeat(scope_index, len(spans))
    return batch


def _append_span_events(cols: dict[str, list[Any]], span: Span) -> None:
    cols["Events.Timestamp"].append([event.time_unix_nano for event in span.events])
    cols["Events.Name"].append([event.name for event in span.events])
    cols["Events.Attributes"].append(
        [flatten_attributes(event.attributes) for event in span.events]
    )


def _append_span_links(cols: dict[str, list[Any]], span: Span) -> None:
    cols["Links.TraceId"].append([link.trace_id.hex() for link in span.links])
    cols["Links.SpanId"].append([link.span_id.hex() for link in span.links])
    cols["Links.TraceState"].append([link.trace_state for link in span.links])
    cols["Links.Attributes"].append([flatten_attributes(link.attributes) for link in span.links])


@dataclass(frozen=True)
class Encoding:
    """An export request as column batches, and how many of its items were not stored."""

    batches: list[ColumnBatch]
    unsupported_points: int = 0


def encode_request(
    request: ExportLogsServiceRequest | ExportTraceServiceRequest | ExportMetricsServiceRequest,
    *,
    walked: WalkedAttributes | None = None,
) -> Encoding:
    """Any of the three export requests, as column batches for its raw tables; `walked`:
    its attributes already flattened (logs and traces only)."""
    if isinstance(request, ExportLogsServiceRequest):
        return Encoding([encode_logs(request, walked=walked)])
    if isinstance(request, ExportTraceServiceRequest):
        return Encoding([encode_traces(request, walked=walked)])
    metrics = encode_metrics(request)
    return Encoding(metrics.batches, metrics.unsupported_points)


def unsupported_points(request: Any) -> int:
    """Data points the raw tables do not hold (exponential histograms, summaries), counted
    without encoding: the receiver reports them as a partial success when it acknowledges."""
    if not isinstance(request, ExportMetricsServiceRequest):
        return 0
    return sum(
        len(getattr(metric, kind).data_points)
        for resource_metrics in request.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
        if (kind := metric.WhichOneof("data")) in UNSTORED_METRIC_KINDS
    )


class MetricsEncoding:
    """Result of encoding metrics: one batch per metric table, plus what was not stored."""

    def __init__(self) -> None:
        self.gauge = _new_batch("otel_metrics_gauge", OTEL_METRICS_GAUGE)
        self.sum = _new_batch("otel_metrics_sum", OTEL_METRICS_SUM)
        self.histogram = _new_batch("otel_metrics_histogram", OTEL_METRICS_HISTOGRAM)
        self.unsupported_points = 0

    @property
    def batches(self) -> list[ColumnBatch]:
        return [b for b in (self.gauge, self.sum, self.histogram) if b.row_count]


def encode_metrics(request: ExportMetricsServiceRequest) -> MetricsEncoding:
    """Flatten gauges, sums and histograms. Exponential histograms and summaries are
    counted as unsupported so the receiver can report them as a partial success."""
    out = MetricsEncoding()
    for resource_metrics in request.resource_metrics:
        resource_attrs = read_key_values(resource_metrics.resource.attributes)
        common_resource = {
            "ResourceAttributes": list(zip(*resource_attrs, strict=True)),
            "ResourceSchemaUrl": resource_metrics.schema_url,
            "ServiceName": _lookup(resource_attrs, SERVICE_NAME_ATTRIBUTE),
        }
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            common_scope = {
                **common_resource,
                "ScopeName": scope.name,
                "ScopeVersion": scope.version,
                "ScopeAttributes": flatten_attributes(scope.attributes),
                "ScopeDroppedAttrCount": scope.dropped_attributes_count,
                "ScopeSchemaUrl": scope_metrics.schema_url,
            }
            for metric in scope_metrics.metrics:
                _encode_metric(out, metric, common_scope)
    return out


def _encode_metric(out: MetricsEncoding, metric: Any, common: dict[str, Any]) -> None:
    base = {
        **common,
        "MetricName": metric.name,
        "MetricDescription": metric.description,
        "MetricUnit": metric.unit,
    }
    kind = metric.WhichOneof("data")
    if kind == "gauge":
        for point in metric.gauge.data_points:
            _append_row(out.gauge, {**base, **_number_point(point)})
    elif kind == "sum":
        extra = {
            "AggregationTemporality": metric.sum.aggregation_temporality,
            "IsMonotonic": metric.sum.is_monotonic,
        }
        for point in metric.sum.data_points:
            _append_row(out.sum, {**base, **_number_point(point), **extra})
    elif kind == "histogram":
        temporality = metric.histogram.aggregation_temporality
        for point in metric.histogram.data_points:
            _append_row(out.histogram, {**base, **_histogram_point(point, temporality)})
    elif kind in UNSTORED_METRIC_KINDS:
        out.unsupported_points += len(getattr(metric, kind).data_points)


def _point_common(point: Any) -> dict[str, Any]:
    return {
        "Attributes": flatten_attributes(point.attributes),
        "StartTimeUnix": point.start_time_unix_nano,
        "TimeUnix": point.time_unix_nano,
        "Flags": point.flags,
    }


def _number_point(point: Any) -> dict[str, Any]:
    value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
    return {**_point_common(point), "Value": float(value)}


def _histogram_point(point: Any, temporality: int) -> dict[str, Any]:
    return {
        **_point_common(point),
        "Count": point.count,
        "Sum": point.sum,
        "BucketCounts": list(point.bucket_counts),
        "ExplicitBounds": list(point.explicit_bounds),
        "Min": point.min,
        "Max": point.max,
        "AggregationTemporality": temporality,
    }


def _append_row(batch: ColumnBatch, row: dict[str, Any]) -> None:
    for name, values in batch.columns.items():
        values.append(row[name])
