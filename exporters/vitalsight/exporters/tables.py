"""Column layouts of the raw OTel tables, as the encoder fills them.

The names and ClickHouse types come from the migrations (the OTel Collector ClickHouse
exporter's tables); the Arrow types here are the embedded store's insert codec.
"""

from __future__ import annotations

import pyarrow as pa

ATTRIBUTES = pa.map_(pa.string(), pa.string())
NANOS = pa.timestamp("ns")

OTEL_LOGS: dict[str, pa.DataType] = {
    "Timestamp": NANOS,
    "TraceId": pa.string(),
    "SpanId": pa.string(),
    "TraceFlags": pa.uint8(),
    "SeverityText": pa.string(),
    "SeverityNumber": pa.uint8(),
    "ServiceName": pa.string(),
    "Body": pa.string(),
    "ResourceSchemaUrl": pa.string(),
    "ResourceAttributes": ATTRIBUTES,
    "ScopeSchemaUrl": pa.string(),
    "ScopeName": pa.string(),
    "ScopeVersion": pa.string(),
    "ScopeAttributes": ATTRIBUTES,
    "LogAttributes": ATTRIBUTES,
    "EventName": pa.string(),
}

OTEL_TRACES: dict[str, pa.DataType] = {
    "Timestamp": NANOS,
    "TraceId": pa.string(),
    "SpanId": pa.string(),
    "ParentSpanId": pa.string(),
    "TraceState": pa.string(),
    "SpanName": pa.string(),
    "SpanKind": pa.string(),
    "ServiceName": pa.string(),
    "ResourceAttributes": ATTRIBUTES,
    "ScopeName": pa.string(),
    "ScopeVersion": pa.string(),
    "SpanAttributes": ATTRIBUTES,
    "Duration": pa.uint64(),
    "StatusCode": pa.string(),
    "StatusMessage": pa.string(),
    "Events.Timestamp": pa.list_(NANOS),
    "Events.Name": pa.list_(pa.string()),
    "Events.Attributes": pa.list_(ATTRIBUTES),
    "Links.TraceId": pa.list_(pa.string()),
    "Links.SpanId": pa.list_(pa.string()),
    "Links.TraceState": pa.list_(pa.string()),
    "Links.Attributes": pa.list_(ATTRIBUTES),
}

_METRIC_COMMON: dict[str, pa.DataType] = {
    "ResourceAttributes": ATTRIBUTES,
    "ResourceSchemaUrl": pa.string(),
    "ScopeName": pa.string(),
    "ScopeVersion": pa.string(),
    "ScopeAttributes": ATTRIBUTES,
    "ScopeDroppedAttrCount": pa.uint32(),
    "ScopeSchemaUrl": pa.string(),
    "ServiceName": pa.string(),
    "MetricName": pa.string(),
    "MetricDescription": pa.string(),
    "MetricUnit": pa.string(),
    "Attributes": ATTRIBUTES,
    "StartTimeUnix": NANOS,
    "TimeUnix": NANOS,
    "Flags": pa.uint32(),
}

OTEL_METRICS_GAUGE: dict[str, pa.DataType] = {**_METRIC_COMMON, "Value": pa.float64()}

OTEL_METRICS_SUM: dict[str, pa.DataType] = {
    **_METRIC_COMMON,
    "Value": pa.float64(),
    "AggregationTemporality": pa.int32(),
    "IsMonotonic": pa.bool_(),
}

OTEL_METRICS_HISTOGRAM: dict[str, pa.DataType] = {
    **_METRIC_COMMON,
    "Count": pa.uint64(),
    "Sum": pa.float64(),
    "BucketCounts": pa.list_(pa.uint64()),
    "ExplicitBounds": pa.list_(pa.float64()),
    "Min": pa.float64(),
    "Max": pa.float64(),
    "AggregationTemporality": pa.int32(),
}

RAW_TABLES: dict[str, dict[str, pa.DataType]] = {
    "otel_logs": OTEL_LOGS,
    "otel_traces": OTEL_TRACES,
    "otel_metrics_gauge": OTEL_METRICS_GAUGE,
    "otel_metrics_sum": OTEL_METRICS_SUM,
    "otel_metrics_histogram": OTEL_METRICS_HISTOGRAM,
}
