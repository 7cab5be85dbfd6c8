"""Scoring the insight engine against scenarios: precision, recall, top-1 cause, delay.

A run: simulate the scenario into a `vitalsight serve`, wait until the pipeline has stored
it, replay `InsightEngine.run_cycle(t)` for every simulated minute of the scenario's
evaluation window, then match the cards with the expected findings:

- a card matches a finding when kind and metric are equal, route / release / each scope
  dimension are equal where the finding gives them, and it opened at or after the change
  start; each finding takes at most one card (the earliest); a second card for the same
  finding is a duplicate and counts as a false positive.
- precision = matched cards / distinct cards opened (quiet periods included); recall =
  required findings matched / required findings; top-1 cause = matched cards whose
  cause_kind is the expected one; delay = opened_at minus the minute at which the changed
  cohort first held `min_samples` samples since the change started (read from the rollups).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from vitalsight.insights.card import IncidentCard
from vitalsight.insights.engine import EngineSettings, InsightEngine
from vitalsight.insights.simulate.scenario import ExpectedFinding, Scenario, at, load_scenario
from vitalsight.insights.simulate.traffic import period

COHORT_DIMENSIONS = ("device", "browser", "country", "network")
VITALS = ("LCP", "INP", "CLS", "TTFB", "FCP")


@dataclass
class FindingResult:
    finding: ExpectedFinding
    card: IncidentCard | None = None
    onset: datetime | None = None  # the cohort reached min_samples

    @property
    def delay_minutes(self) -> float | None:
        if self.card is None or self.onset is None:
            return None
        return (self.card.opened_at - self.onset) / timedelta(minutes=1)

    @property
    def cause_correct(self) -> bool | None:
        if self.card is None or self.finding.cause_kind is None:
            return None
        return self.card.cause_kind == self.finding.cause_kind


@dataclass
class ScenarioScore:
    name: str
    findings: list[FindingResult]
    cards: list[IncidentCard]  # first state of every distinct card opened
    false_positives: list[IncidentCard] = field(default_factory=list)
    cycle_seconds: list[float] = field(default_factory=list)
    events_sent: int = 0

    @property
    def matched(self) -> int:
        return sum(1 for f in self.findings if f.card is not None)

    @property
    def required(self) -> list[FindingResult]:
        return [f for f in self.findings if not f.finding.optional]

    @property
    def delays(self) -> list[float]:
        return [d for f in self.findings if (d := f.delay_minutes) is not None]


def first_states(cards: Sequence[IncidentCard]) -> list[IncidentCard]:
    """One card per incident id: the first state seen (in replay order)."""
    seen: dict[str, IncidentCard] = {}
    for card in cards:
        seen.setdefault(card.id, card)
    return list(seen.values())


def matches(card: IncidentCard, finding: ExpectedFinding, change_start: datetime) -> bool:
    """The contract's matching rule (module docstring)."""
    if card.kind != finding.kind or card.metric != finding.metric:
        return False
    if finding.route is not None and card.route != finding.route:
        return False
    if finding.release is not None and card.release != finding.release:
        return False
    if any(card.scope.get(d) != value for d, value in finding.scope.items()):
        return False
    return card.opened_at >= change_start


def change_start(scenario: Scenario, finding: ExpectedFinding, end: datetime) -> datetime:
    """Where a finding's change starts: its incident's start, else the evaluation start."""
    if finding.incident is None:
        return at(end, scenario.evaluate.start)
    return scenario.incident_start(scenario.incident(finding.incident), end)


def score(
    scenario: Scenario,
    cards: Sequence[IncidentCard],
    end: datetime,
    onsets: Callable[[ExpectedFinding, datetime], datetime | None] = lambda f, s: None,
) -> ScenarioScore:
    """Match the replay's cards with the scenario's expected findings."""
    opened = sorted(first_states(cards), key=lambda c: c.opened_at)
    results = [FindingResult(f) for f in scenario.expect]
    false_positives: list[IncidentCard] = []
    for card in opened:
        result = next(
            (
                r
                for r in results
                if r.card is None
                and matches(card, r.finding, change_start(scenario, r.finding, end))
            ),
            None,
        )
        if result is None:
            false_positives.append(card)
        else:
            result.card = card
    for result in results:
        result.onset = onsets(result.finding, change_start(scenario, result.finding, end))
    return ScenarioScore(scenario.name, results, opened, false_positives)


def cohort_onset(
    reader: Any,
    scenario: Scenario,
    finding: ExpectedFinding,
    since: datetime,
    min_samples: int,
) -> datetime | None:
    """The minute at which the changed cohort first held `min_samples` since `since`.

    The changed cohort is the traffic the incident touches (its release and `where`) within
    what the finding names (route, release, scope): the engine cannot be expected to see a
    change before that traffic exists.
    """
    table, conditions = _cohort_source(finding)
    conditions = ["app = {app:String}", "minute >= {since:DateTime}", *conditions]
    parameters: dict[str, Any] = {
        "app": scenario.app,
        "since": since.replace(tzinfo=None, second=0, microsecond=0),
        "metric": finding.metric,
        "endpoint": finding.scope.get("endpoint", ""),
    }
    for column, values in _cohort_values(scenario, finding).items():
        conditions.append(f"{column} IN {{{column}:Array(String)}}")
        parameters[column] = values
    sql = (
        f"SELECT minute, sum(samples) FROM {table} WHERE {' AND '.join(conditions)} "
        "GROUP BY minute ORDER BY minute"
    )
    total = 0
    for minute, samples in reader.query(sql, parameters=parameters).result_rows:
        total += int(samples)
        if total >= min_samples:
            # the minute is complete (and visible to a cycle) at its end
            return _utc(minute) + timedelta(minutes=1)
    return None


def _cohort_values(scenario: Scenario, finding: ExpectedFinding) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    if finding.incident is not None:
        incident = scenario.incident(finding.incident)
        values.update({d: list(v) for d, v in incident.where.items()})
        if incident.release is not None:
            values["release"] = [incident.release]
        if incident.routes:
            values["route"] = list(incident.routes)
    if finding.route is not None:
        values["route"] = [finding.route]
    if finding.release is not None:
        values["release"] = [finding.release]
    for dimension in COHORT_DIMENSIONS:
        if dimension in finding.scope:
            values[dimension] = [finding.scope[dimension]]
    return values


def _cohort_source(finding: ExpectedFinding) -> tuple[str, list[str]]:
    if finding.metric in VITALS:
        return "rum_vitals_1m", ["name = {metric:String}"]
    if finding.metric.startswith("request"):
        return "rum_requests_1m", (
            ["url_template = {endpoint:String}"] if "endpoint" in finding.scope else []
        )
    return "rum_page_views_1m", []  # rates per page view


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def replay(
    engine: InsightEngine, start: datetime, end: datetime
) -> tuple[list[IncidentCard], list[float]]:
    """Run a cycle at every minute in [start, end]; the cards and each cycle's wall time."""
    cards: list[IncidentCard] = []
    seconds: list[float] = []
    now = start
    while now <= end:
        started = time.perf_counter()
        cards.extend(engine.run_cycle(now))
        seconds.append(time.perf_counter() - started)
        now += timedelta(minutes=1)
    return cards, seconds


def evaluate_stored(
    reader: Any, scenario: Scenario, end: datetime, settings: EngineSettings | None = None
) -> ScenarioScore:
    """Replay the engine over a scenario already stored (simulated to end at `end`)."""
    _, end = period(scenario, end)
    settings = (settings or EngineSettings()).model_copy(
        update={"app": scenario.app, "environment": scenario.environment}
    )
    engine = InsightEngine(reader, settings)
    cards, seconds = replay(
        engine, at(end, scenario.evaluate.start), at(end, scenario.evaluate.end)
    )

    def onset(finding: ExpectedFinding, since: datetime) -> datetime | None:
        return cohort_onset(reader, scenario, finding, since, settings.min_samples)

    result = score(scenario, cards, end, onset)
    result.cycle_seconds = seconds
    return result


@dataclass
class Totals:
    opened: int
    matched: int
    required: int
    required_matched: int
    causes_scored: int
    causes_correct: int
    delays: list[float]

    @property
    def precision(self) -> float:
        return self.matched / self.opened if self.opened else 1.0

    @property
    def recall(self) -> float:
        return self.required_matched / self.required if self.required else 1.0

    @property
    def cause_accuracy(self) -> float:
        return self.causes_correct / self.causes_scored if self.causes_scored else 1.0

    @property
    def median_delay(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None


def totals(scores: Sequence[ScenarioScore]) -> Totals:
    findings = [f for s in scores for f in s.findings]
    causes = [c for f in findings if (c := f.cause_correct) is not None]
    return Totals(
        opened=sum(len(s.cards) for s in scores),
        matched=sum(s.matched for s in scores),
        required=sum(len(s.required) for s in scores),
        required_matched=sum(1 for s in scores for f in s.required if f.card is not None),
        causes_scored=len(causes),
        causes_correct=sum(causes),
        delays=[d for s in scores for d in s.delays],
    )


def render_score(scenario_score: ScenarioScore, console: Console | None = None) -> None:
    """A scenario's table: each expected finding with its card, cause and delay; false
    positives last."""
    cycles = scenario_score.cycle_seconds
    title = f"{scenario_score.name}: {scenario_score.events_sent:,} events"
    if cycles:
        title += f", {len(cycles)} cycles, median {statistics.median(cycles):.2f} s"
    table = Table(title=title)
    for column in ("expected", "card", "cause", "delay (min)"):
        table.add_column(column)
    for f in scenario_score.findings:
        want = f"{f.finding.kind} {f.finding.metric} {f.finding.route or ''}"
        want += " (optional)" if f.finding.optional else ""
        got = f.card.summary if f.card else "MISSED"
        cause = "" if f.cause_correct is None else ("ok" if f.cause_correct else "WRONG")
        if f.card is not None and f.cause_correct is False:
            cause += f" ({f.card.cause_kind})"
        delay = "" if f.delay_minutes is None else f"{f.delay_minutes:.0f}"
        table.add_row(want, got, cause, delay)
    for card in scenario_score.false_positives:
        table.add_row("FALSE POSITIVE", card.summary or f"{card.kind} {card.metric}", "", "")
    (console or Console()).print(table)


def render_totals(scores: Sequence[ScenarioScore], console: Console | None = None) -> None:
    t = totals(scores)
    delay = "n/a" if t.median_delay is None else f"{t.median_delay:.1f}"
    (console or Console()).print(
        f"precision {t.precision:.2f} ({t.matched}/{t.opened})  recall {t.recall:.2f} "
        f"({t.required_matched}/{t.required})  top-1 cause {t.cause_accuracy:.2f} "
        f"({t.causes_correct}/{t.causes_scored})  median delay {delay} simulated min"
    )


def evaluate_scenarios(
    paths: Sequence[Path],
    *,
    end: datetime,
    otlp_url: str,
    reader: Any,
    api_key: str | None = None,
    settings: EngineSettings | None = None,
    on_score: Callable[[ScenarioScore], None] = render_score,
) -> list[ScenarioScore]:
    """Simulate each scenario into the serve at `otlp_url`, then replay and score it
    (`on_score` is called with each scenario's score as soon as it is known)."""
    from vitalsight.insights.simulate.send import send_scenario  # noqa: PLC0415

    scores = []
    for path in paths:
        scenario = load_scenario(path)
        summary = send_scenario(scenario, otlp_url, end=end, api_key=api_key)
        wait_until_stored(reader, scenario.app, summary.log_records)
        scores.append(evaluate_stored(reader, scenario, end, settings))
        scores[-1].events_sent = summary.events
        on_score(scores[-1])
    return scores


def wait_until_stored(reader: Any, app: str, log_records: int, timeout_s: float = 300) -> None:
    """Poll until the app's log records reached the raw table (the writer flushes async)."""
    deadline = time.monotonic() + timeout_s
    sql = "SELECT count() FROM otel_logs WHERE ServiceName = {app:String}"
    while time.monotonic() < deadline:
        if int(reader.query(sql, parameters={"app": app}).result_rows[0][0]) >= log_records:
            return
        time.sleep(0.5)
    raise TimeoutError(f"{app}: {log_records} log records not stored after {timeout_s} s")
