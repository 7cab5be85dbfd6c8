"""The three OTLP signals: their request/response messages and how to count their items."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def _count_spans(request: Any) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def _count_log_records(request: Any) -> int:
    return sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)


def _count_points(request: Any) -> int:
    total = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    total += len(getattr(metric, kind).data_points)
    return total


@dataclass(frozen=True)
class Signal:
    name: str
    request_type: type[Any]
    response_type: type[Any]
    count_items: Callable[[Any], int]
    rejected_field: str  # the ExportXPartialSuccess counter

    def response(self, rejected: int = 0, message: str = "") -> Any:
        response = self.response_type()
        if rejected or message:
            setattr(response.partial_success, self.rejected_field, rejected)
            response.partial_success.error_message = message
        return response


TRACES = Signal(
    "traces",
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
    _count_spans,
    "rejected_spans",
)
METRICS = Signal(
    "metrics",
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
    _count_points,
    "rejected_data_points",
)
LOGS = Signal(
    "logs",
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
    _count_log_records,
    "rejected_log_records",
)
SIGNALS = {signal.name: signal for signal in (TRACES, METRICS, LOGS)}
