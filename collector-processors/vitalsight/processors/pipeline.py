"""The ingest pipeline: receivers hand decoded OTLP here; processors run in order; the
exporter queues the result. HTTP and gRPC share it, so both behave the same.

Logs and traces are read once (`RequestView`) and that view is handed from processor to
processor (`process_view`), so the attributes are not read out of protobuf once per
processor; the exporter then encodes them from what that view read (`walked_attributes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vitalsight.exporters.exporter import ClickHouseExporter, ExportResult, ExportStatus
from vitalsight.processors.base import Processor
from vitalsight.processors.request_view import RequestView
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
        request, view = walk_processors(self._processors, signal, request)
        result = self._exporter.export(
            request, view.walked_attributes() if view is not None else None
        )
        if self._metrics is not None:
            _record(self._metrics, signal, transport, items, result)
        return result

    def reject(self, signal: Signal, reason: str) -> None:
        """Count a request refused before it reached the pipeline."""
        if self._metrics is not None:
            self._metrics.rejected_requests.labels(signal.name, reason).inc()


def run_processors(processors: Sequence[Processor], signal: Signal, request: Any) -> Any:
    """Run `processors` in order; those with `process_view` share one view of the request."""
    return walk_processors(processors, signal, request)[0]


def walk_processors(
    processors: Sequence[Processor], signal: Signal, request: Any
) -> tuple[Any, RequestView | None]:
    """`run_processors`, also returning the view of the result when the last processors
    shared one (what they read, the exporter need not read again)."""
    view: RequestView | None = None
    for processor in processors:
        process_view = getattr(processor, "process_view", None)
        if process_view is not None and RequestView.supports(signal):
            if view is None:
                view = RequestView(signal, request)
            process_view(view)
        else:
            request = processor.process(signal, request)
            view = None  # it may have changed the request behind the view
    return request, view


def _record(
    metrics: SelfMetrics, signal: Signal, transport: str, items: int, result: ExportResult
) -> None:
    if result.status is ExportStatus.ACCEPTED:
        metrics.received_items.labels(signal.name, transport).inc(items - result.rejected_items)
    else:
        metrics.rejected_requests.labels(signal.name, result.status.value).inc()
