"""OTLP → raw-table columns, as the OTel Collector ClickHouse exporter flattens them."""

from __future__ import annotations

import pyarrow as pa
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from vitalsight.exporters.arrow_codec import to_arrow
from vitalsight.exporters.encode import (
    any_value_to_str,
    encode_logs,
    encode_metrics,
    encode_traces,
)
from vitalsight.exporters.map_column import MapColumn
from vitalsight.exporters.tables import ATTRIBUTES
from vitalsight.service.otlp_build import logs_request, traces_request


def test_any_values_stringify_like_the_collector() -> None:
    assert any_value_to_str(AnyValue(string_value="a")) == "a"
    assert any_value_to_str(AnyValue(bool_value=True)) == "true"
    assert any_value_to_str(AnyValue(int_value=-42)) == "-42"
    assert any_value_to_str(AnyValue(double_value=0.25)) == "0.25"
    assert any_value_to_str(AnyValue(bytes_value=b"\x01\x02")) == "AQI="
    assert any_value_to_str(AnyValue()) == ""
    array = AnyValue(
        array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(string_value="x")])
    )
    assert any_value_to_str(array) == '[1,"x"]'
    kvlist = AnyValue(
        kvlist_value=KeyValueList(
            values=[
                KeyValue(key="name", value=AnyValue(string_value="cls")),
                KeyValue(key="value", value=AnyValue(double_value=0.12)),
            ]
        )
    )
    assert any_value_to_str(kvlist) == '{"name":"cls","value":0.12}'


def test_logs_keep_ids_as_hex_and_event_name_from_either_place() -> None:
    newer = LogRecord(
        time_unix_nano=5,
        event_name="browser.web_vital",
        trace_id=bytes.fromhex("0af7651916cd43dd8448eb211c80319c"),
        span_id=bytes.fromhex("b7ad6b7169203331"),
        flags=0x101,
    )
    older = LogRecord(
        observed_time_unix_nano=7,
        attributes=[KeyValue(key="event.name", value=AnyValue(string_value="exception"))],
    )
    batch = encode_logs(logs_request({"service.name": "shop"}, [newer, older]), now_ns=99)
    cols = batch.columns
    assert cols["EventName"] == ["browser.web_vital", "exception"]
    assert cols["TraceId"] == ["0af7651916cd43dd8448eb211c80319c", ""]
    assert cols["SpanId"] == ["b7ad6b7169203331", ""]
    assert cols["TraceFlags"] == [1, 0]
    assert cols["Timestamp"] == [5, 7]  # observed time when the event time is missing
    assert list(cols["ServiceName"]) == ["shop", "shop"]
    assert cols["ResourceAttributes"][0] == [("service.name", "shop")]


def test_log_without_any_time_gets_the_receive_time() -> None:
    batch = encode_logs(logs_request({}, [LogRecord()]), now_ns=1234)
    assert batch.columns["Timestamp"] == [1234]


def test_spans_with_events_links_and_status() -> None:
    span = Span(
        trace_id=b"\x01" * 16,
        span_id=b"\x02" * 8,
        parent_span_id=b"\x03" * 8,
        name="GET",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=1_000,
        end_time_unix_nano=3_500,
        status=Status(code=Status.STATUS_CODE_ERROR, message="boom"),
        events=[
            Span.Event(
                time_unix_nano=2_000,
                name="exception",
                attributes=[
                    KeyValue(key="exception.type", value=AnyValue(string_value="TypeError"))
                ],
            )
        ],
        links=[Span.Link(trace_id=b"\x04" * 16, span_id=b"\x05" * 8)],
    )
    cols = encode_traces(traces_request({"service.name": "shop"}, [span])).columns
    assert cols["SpanKind"] == ["SPAN_KIND_CLIENT"]
    assert cols["StatusCode"] == ["STATUS_CODE_ERROR"]
    assert cols["Duration"] == [2_500]
    assert cols["ParentSpanId"] == ["03" * 8]
    assert cols["Events.Name"] == [["exception"]]
    assert cols["Events.Timestamp"] == [[2_000]]
    assert cols["Events.Attributes"] == [[[("exception.type", "TypeError")]]]
    assert cols["Links.TraceId"] == [["04" * 16]]


def test_metrics_split_by_kind_and_count_unsupported() -> None:
    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    gauge = scope.metrics.add(name="g")
    gauge.gauge.data_points.add(as_int=3, time_unix_nano=10)
    total = scope.metrics.add(name="s")
    total.sum.data_points.add(as_double=1.5)
    total.sum.is_monotonic = True
    histogram = scope.metrics.add(name="h")
    histogram.histogram.data_points.add(
        count=3, sum=6.0, bucket_counts=[1, 2], explicit_bounds=[5.0]
    )
    scope.metrics.add(name="e").exponential_histogram.data_points.add(count=1)
    encoded = encode_metrics(request)
    assert encoded.gauge.columns["Value"] == [3.0]
    assert encoded.sum.columns["IsMonotonic"] == [True]
    assert encoded.histogram.columns["BucketCounts"] == [[1, 2]]
    assert encoded.unsupported_points == 1
    assert [b.table for b in encoded.batches] == [
        "otel_metrics_gauge",
        "otel_metrics_sum",
        "otel_metrics_histogram",
    ]


def test_empty_request_encodes_to_no_rows() -> None:
    assert encode_logs(ExportLogsServiceRequest()).row_count == 0


def test_a_flat_map_column_becomes_the_same_arrow_map_as_rows_of_pairs() -> None:
    rows = [[("a", "1"), ("b", "")], [], [("a", "x"), ("a", "y")]]
    column = MapColumn()
    for row in rows:
        column.append(row)
    assert len(column) == 3 and column[2] == [("a", "x"), ("a", "y")]
    flat = to_arrow("otel_logs", {"LogAttributes": column}).column("LogAttributes")
    assert flat.to_pylist() == pa.array(rows, type=ATTRIBUTES).to_pylist()
    assert flat.type == ATTRIBUTES
