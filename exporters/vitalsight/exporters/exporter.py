"""The ClickHouse exporter: OTLP requests in, rows queued for the store.

Like opentelemetry-python's exporters, `export()` never raises into the pipeline: it
returns a result the receiver turns into an OTLP response.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from vitalsight.exporters.batch import ColumnBatch
from vitalsight.exporters.encode import encode_logs, encode_metrics, encode_traces
from vitalsight.exporters.writer import BatchWriter

logger = logging.getLogger(__name__)

ExportRequest = ExportLogsServiceRequest | ExportTraceServiceRequest | ExportMetricsServiceRequest


class ExportStatus(enum.Enum):
    ACCEPTED = "accepted"
    QUEUE_FULL = "queue_full"  # retryable: the sender should back off and resend
    FAILED = "failed"  # not retryable: the data cannot be encoded


@dataclass(frozen=True)
class ExportResult:
    status: ExportStatus
    rejected_items: int = 0
    message: str = ""


class ClickHouseExporter:
    """Encodes OTLP into raw-table rows and hands them to the batching writer."""

    def __init__(self, writer: BatchWriter) -> None:
        self._writer = writer
        self._shut_down = False

    def export(self, request: ExportRequest) -> ExportResult:
        if self._shut_down:
            return ExportResult(ExportStatus.QUEUE_FULL, message="exporter is shutting down")
        try:
            batches, unsupported, note = _encode(request)
            rows = [batch.to_rows() for batch in batches if batch.row_count]
        except Exception as exc:  # a bug or a value ClickHouse cannot hold; never raise
            logger.exception("cannot encode export request")
            return ExportResult(ExportStatus.FAILED, message=f"cannot encode: {exc}")
        if not self._writer.offer(rows):
            return ExportResult(ExportStatus.QUEUE_FULL, message="ingest queue is full")
        return ExportResult(ExportStatus.ACCEPTED, rejected_items=unsupported, message=note)

    def force_flush(self, timeout_s: float = 30.0) -> bool:
        return self._writer.force_flush(timeout_s)

    def shutdown(self) -> None:
        """Flush what was accepted and stop; idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        self._writer.close()


def _encode(request: ExportRequest) -> tuple[list[ColumnBatch], int, str]:
    if isinstance(request, ExportLogsServiceRequest):
        return [encode_logs(request)], 0, ""
    if isinstance(request, ExportTraceServiceRequest):
        return [encode_traces(request)], 0, ""
    metrics = encode_metrics(request)
    note = ""
    if metrics.unsupported_points:
        note = "exponential histogram and summary points are not stored"
    return metrics.batches, metrics.unsupported_points, note
