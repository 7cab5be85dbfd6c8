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

from vitalsight.exporters.encode import WalkedAttributes, encode_request
from vitalsight.exporters.writer import BatchWriter

logger = logging.getLogger(__name__)

UNSUPPORTED_NOTE = "exponential histogram and summary points are not stored"

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

    def __init__(self, writer: BatchWriter, *, wait_for_room: bool = False) -> None:
        """``wait_for_room``: requests were acknowledged before they got here (the receivers'
        ingest queue did admission), so wait for the writer instead of refusing them."""
        self._writer = writer
        self._wait_for_room = wait_for_room
        self._shut_down = False

    def export(
        self, request: ExportRequest, walked: WalkedAttributes | None = None
    ) -> ExportResult:
        """Encode and queue `request`; `walked`: its attributes as the processors read them."""
        if self._shut_down:
            return ExportResult(ExportStatus.QUEUE_FULL, message="exporter is shutting down")
        try:
            encoding = encode_request(request, walked=walked)
            rows = [batch.to_rows() for batch in encoding.batches if batch.row_count]
        except Exception as exc:  # a bug or a value ClickHouse cannot hold; never raise
            logger.exception("cannot encode export request")
            return ExportResult(ExportStatus.FAILED, message=f"cannot encode: {exc}")
        if not self._writer.offer(rows, wait=self._wait_for_room):
            return ExportResult(ExportStatus.QUEUE_FULL, message="ingest queue is full")
        unsupported = encoding.unsupported_points
        note = UNSUPPORTED_NOTE if unsupported else ""
        return ExportResult(ExportStatus.ACCEPTED, rejected_items=unsupported, message=note)

    def force_flush(self, timeout_s: float = 30.0) -> bool:
        return self._writer.force_flush(timeout_s)

    def shutdown(self) -> None:
        """Flush what was accepted and stop; idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        self._writer.close()
