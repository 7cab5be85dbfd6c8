"""Prometheus metrics of the insight service (served at /metrics by the API)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_CYCLE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class InsightMetrics:
    """One registry per service (tests build several services in one process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.cycles = Counter(
            "vitalsight_insights_cycles",
            "Evaluation cycles run, by outcome (ok, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.cycle_seconds = Histogram(
            "vitalsight_insights_cycle_seconds",
            "Wall time of one cycle (engine, summaries, publishing, annotations).",
            buckets=_CYCLE_BUCKETS,
            registry=self.registry,
        )
        self.last_cycle = Gauge(
            "vitalsight_insights_last_cycle_timestamp_seconds",
            "When the last successful cycle finished (Unix seconds).",
            registry=self.registry,
        )
        self.open_incidents = Gauge(
            "vitalsight_insights_open_incidents",
            "Incidents open (or updated) and not yet resolved.",
            registry=self.registry,
        )
        self.cards = Counter(
            "vitalsight_insights_cards",
            "Card states produced, by kind and status (open, updated, resolved).",
            ["kind", "status"],
            registry=self.registry,
        )
        self.summaries = Counter(
            "vitalsight_insights_summaries",
            "Summaries written, by source (claude, template).",
            ["source"],
            registry=self.registry,
        )
        self.summary_fallbacks = Counter(
            "vitalsight_insights_summary_fallbacks",
            "Claude replies not used (template kept), by reason: api_error, truncated, "
            "malformed, invented_numbers, foreign_link, echo, off_topic, other.",
            ["reason"],
            registry=self.registry,
        )
        self.publish_failures = Counter(
            "vitalsight_insights_publish_failures",
            "Batches of cards the OTLP receiver did not accept (retried next cycle).",
            registry=self.registry,
        )
        self.annotation_failures = Counter(
            "vitalsight_insights_annotation_failures",
            "Cards whose Grafana annotation failed (retried next cycle).",
            registry=self.registry,
        )
