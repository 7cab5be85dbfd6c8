"""The insight service loop: every interval, one cycle from detection to every output.

    engine.run_cycle(now) → summarise (Claude or template) → publish (OTLP logs →
    rum_insights) → annotate (Grafana)

A cycle never raises: a failing engine is counted and retried at the next interval; cards
the receiver refused are kept and sent again with the next cycle's (latest state per id),
and the annotator keeps its own failures pending. The blocking work runs in a thread so
the API stays responsive while a cycle runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from vitalsight.insights.card import IncidentCard, Status
from vitalsight.insights.metrics import InsightMetrics
from vitalsight.insights.publish import PublishError
from vitalsight.insights.summarize import Summarizer

logger = logging.getLogger(__name__)


class CycleEngine(Protocol):
    def run_cycle(self, now: datetime) -> list[IncidentCard]: ...


class CardSink(Protocol):
    def publish(self, cards: Sequence[IncidentCard]) -> None: ...


class Annotator(Protocol):
    def annotate(self, cards: Sequence[IncidentCard]) -> int: ...


@dataclass
class CycleReport:
    at: datetime | None = None
    ok: bool = False
    cards: int = 0
    seconds: float = 0.0
    error: str = ""


def wall_clock() -> datetime:
    return datetime.now(UTC)


class InsightService:
    def __init__(
        self,
        engine: CycleEngine,
        summarizer: Summarizer,
        publisher: CardSink,
        *,
        annotator: Annotator | None = None,
        metrics: InsightMetrics | None = None,
        clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        self._engine = engine
        self._summarizer = summarizer
        self._publisher = publisher
        self._annotator = annotator
        self.metrics = metrics or InsightMetrics()
        self._clock = clock
        self._unpublished: dict[str, IncidentCard] = {}
        self._open: set[str] = set()
        self.last_cycle = CycleReport()

    def run_once(self, now: datetime | None = None) -> CycleReport:
        """One cycle at `now` (default: the clock). Never raises."""
        now = now or self._clock()
        started = time.perf_counter()
        try:
            cards = [self._summarizer.summarize(card) for card in self._engine.run_cycle(now)]
        except Exception as exc:  # the loop must outlive any engine bug; logged with trace
            logger.exception("insight cycle at %s failed", now.isoformat())
            return self._finish(CycleReport(now, False, 0, 0.0, repr(exc)), started)
        self._count(cards)
        self._publish(cards)
        if self._annotator is not None:
            failed = self._annotator.annotate(cards)
            self.metrics.annotation_failures.inc(failed)
        return self._finish(CycleReport(now, True, len(cards)), started)

    async def run_forever(self, interval_s: float, stop: asyncio.Event) -> None:
        """A cycle every `interval_s` seconds (first one immediately) until `stop` is set."""
        while not stop.is_set():
            started = time.monotonic()
            await asyncio.to_thread(self.run_once)
            remaining = interval_s - (time.monotonic() - started)
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(remaining, 0.0))
            except TimeoutError:
                continue

    def health(self) -> dict[str, Any]:
        last = self.last_cycle
        return {
            "last_cycle_at": last.at.isoformat() if last.at else None,
            "last_cycle_ok": last.ok,
            "last_cycle_cards": last.cards,
            "last_cycle_error": last.error,
            "open_incidents": len(self._open),
            "unpublished_cards": len(self._unpublished),
        }

    def _count(self, cards: Sequence[IncidentCard]) -> None:
        for card in cards:
            self.metrics.cards.labels(card.kind.value, card.status.value).inc()
            self.metrics.summaries.labels(card.summary_source).inc()
            if card.status == Status.RESOLVED:
                self._open.discard(card.id)
            else:
                self._open.add(card.id)
        self.metrics.open_incidents.set(len(self._open))

    def _publish(self, cards: Sequence[IncidentCard]) -> None:
        for card in cards:
            previous = self._unpublished.get(card.id)
            if previous is None or card.updated_at >= previous.updated_at:
                self._unpublished[card.id] = card
        if not self._unpublished:
            return
        try:
            self._publisher.publish(list(self._unpublished.values()))
        except (PublishError, httpx.HTTPError) as exc:
            self.metrics.publish_failures.inc()
            logger.warning(
                "%d cards not published, retried next cycle: %s", len(self._unpublished), exc
            )
            return
        self._unpublished.clear()

    def _finish(self, report: CycleReport, started: float) -> CycleReport:
        report.seconds = time.perf_counter() - started
        self.metrics.cycle_seconds.observe(report.seconds)
        self.metrics.cycles.labels("ok" if report.ok else "failed").inc()
        if report.ok:
            self.metrics.last_cycle.set_to_current_time()
        self.last_cycle = report
        return report
