"""OTLP/gRPC receiver end to end with grpcio's generated client stubs."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from tests.otlp_samples import fetch_spans_request, vitals_request
from tests.receivers.test_otlp_http import marker
from tests.serve_process import ServeProcess


def test_grpc_logs_and_traces_land(server: ServeProcess) -> None:
    mark = marker()
    with grpc.insecure_channel(server.grpc_address) as channel:
        logs = logs_service_pb2_grpc.LogsServiceStub(channel)
        response = logs.Export(vitals_request(mark, 4), timeout=30)
        assert not response.HasField("partial_success")
        traces = trace_service_pb2_grpc.TraceServiceStub(channel)
        traces.Export(fetch_spans_request(mark, 2), timeout=30)
    assert server.wait_for_count("rum_vitals", 4, where=f"startsWith(metric_id, '{mark}')") == 4
    where = f"SpanAttributes['test.marker'] = '{mark}'"
    assert server.wait_for_count("otel_traces", 2, where=where) == 2
    assert server.wait_for_count("rum_requests", 2, where="url LIKE '%/api/search/%'") >= 2


def test_grpc_requires_the_api_key_when_configured(tmp_path: Path) -> None:
    process = ServeProcess(tmp_path / "data", ["--api-key", "k-9"]).start()
    try:
        with grpc.insecure_channel(process.grpc_address) as channel:
            stub = logs_service_pb2_grpc.LogsServiceStub(channel)
            with pytest.raises(grpc.RpcError) as refused:
                stub.Export(vitals_request(marker(), 1), timeout=30)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            stub.Export(
                vitals_request(marker(), 1), timeout=30, metadata=(("x-vitalsight-key", "k-9"),)
            )
    finally:
        process.stop()
