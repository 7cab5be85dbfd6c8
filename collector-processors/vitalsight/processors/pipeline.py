"""The ingest pipeline: receivers hand decoded OTLP here; processors run in order; the
exporter queues the result. HTTP and gRPC share it, so both behave the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vitalsight.exporters.exporter import ClickHouseExporter, ExportResult, ExportStatus
from vitalsight.processors.base import Processor
from vitalsight.receivers.signals import Signal
from vitalsight.service.selfmetrics import SelfMetrics


class IngestPipeline:
    def __init__(
        self,
        exporter: ClickHouseExporter,
        *,
        processors: Sequence[Processor] = (),
        metrics: SelfMetrics | None = None,
    ) -> None:
        self._exporter = exporter
        self._processors = tuple(processors)
        self._metrics = metrics

    def ingest(self, signal: Signal, request: Any, *, transport: str) -> ExportResult:
        items = signal.count_items(request)
        for processor in self._processors:
            request = processor.process(signal, request)
        result = self._exporter.export(request)
        if self._metrics is not None:
            _record(self._metrics, signal, transport, items, result)
        return result

    def reject(self, signal: Signal, reason: str) -> None:
        """Count a request refused before it reached the pipeline."""
        if self._metrics is not None:
            self._metrics.rejected_requests.labels(signal.name, reason).inc()


def _record(
    metrics: SelfMetrics, signal: Signal, transport: str, items: int, result: ExportResult
) -> None:
    if result.status is ExportStatus.ACCEPTED:
        metrics.received_items.labels(signal.name, transport).inc(items - result.rejected_items)
    else:
        metrics.rejected_requests.labels(signal.name, result.status.value).inc()
