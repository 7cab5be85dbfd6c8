"""vitalsight's own Prometheus metrics, served on `/metrics` of the OTLP/HTTP port.

Each server owns a registry, so several servers (tests) can live in one process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class SelfMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.received_items = Counter(
            "vitalsight_received_items",
            "Spans, log records and metric points accepted by the receivers",
            ["signal", "transport"],
            registry=self.registry,
        )
        self.rejected_requests = Counter(
            "vitalsight_rejected_requests",
            "Export requests refused, by reason",
            ["signal", "reason"],
            registry=self.registry,
        )
        self.written_rows = Counter(
            "vitalsight_written_rows",
            "Rows inserted into the store, by table",
            ["table"],
            registry=self.registry,
        )
        self.failed_flushes = Counter(
            "vitalsight_failed_flushes",
            "Inserts that failed and will be retried, by table",
            ["table"],
            registry=self.registry,
        )
        self.queue_rows = Gauge(
            "vitalsight_queue_rows",
            "Rows accepted but not yet written",
            registry=self.registry,
        )
        self.ingest_queue_items = Gauge(
            "vitalsight_ingest_queue_items",
            "Items acknowledged to senders, waiting for (or in) the processors and encoding",
            registry=self.registry,
        )
        self.flush_seconds = Histogram(
            "vitalsight_flush_seconds",
            "Time to insert one table's batch",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
