"""Endpoint slowdowns that no vital regression claims as its cause."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from vitalsight.insights.card import CauseKind, Evidence, IncidentCard, Kind
from vitalsight.insights.explain import causes
from vitalsight.insights.explain.actions import suggested_action
from vitalsight.insights.explain.confidence import confidence, confidence_label
from vitalsight.insights.findings.base import (
    MIN_NAMING_SAMPLES,
    NEW_RELEASE_MARGIN,
    Comparison,
    Finder,
    aware,
)
from vitalsight.insights.lifecycle import Finding, IncidentKey, incident_key
from vitalsight.insights.queries import CONCURRENT, Filters, Window

if TYPE_CHECKING:
    from vitalsight.insights.engine import EngineSettings

# A slow endpoint gets its own card only after this long, so the vital regression it causes
# (opened two cycles after it first shows) claims it as its cause first: one card, not two.
# Slow in every cycle of the settle period, it is confirmed: it opens in the cycle it settles.
ENDPOINT_SETTLE = timedelta(minutes=3)
# ...and only once the vitals of the pages calling it could be tested on the slow traffic
# (for a slowdown a new release carries: that release's cohorts on those routes) for this
# many cycles: a regression found in the first of them opens in the second and claims it.
TESTED_CYCLES = 2
WAITING_VITALS = ("LCP", "FCP")  # the vitals a page's data requests can hold back
MIN_CALL_SHARE = 0.1  # routes making fewer of the endpoint's calls are not waited for

# (app, environment, route, dimension, value) of a vital cohort → can it be tested now?
Testable = Callable[[tuple[str, str, str, str, str]], bool]


@dataclass(frozen=True)
class _Slowdown:
    finding: Finding
    callers: list[tuple[str, str, str, str, str]]  # the vital cohorts that must be testable


class EndpointFindings(Finder):
    """An endpoint (app-wide url template) whose latency rose against every baseline."""

    def __init__(self, reader: object, filters: Filters, settings: EngineSettings) -> None:
        super().__init__(reader, filters, settings)
        self._slow_since: dict[IncidentKey, datetime] = {}  # first cycle each was seen slow
        self._tested_since: dict[IncidentKey, datetime] = {}  # its callers' vitals testable
        # slow endpoints an open regression named as cause → the last cycle they were slow
        self._blamed: dict[str, datetime] = {}

    def findings(
        self,
        now: datetime,
        blamed: set[str],
        blamed_open: set[str],
        testable: Testable = lambda cohort: True,
    ) -> list[Finding]:
        """Settled slowdowns of endpoints not blamed by a vital regression: `blamed` by this
        cycle's opening candidates, `blamed_open` by open incidents; `testable` says whether a
        vital cohort holds enough samples to be tested this cycle."""
        slowdowns = self._slowdowns(now)
        candidates = [d.finding for d in slowdowns]
        self._slow_since = {f.key: self._slow_since.get(f.key, now) for f in candidates}
        self._tested_since = {
            d.finding.key: self._tested_since.get(d.finding.key, now)
            for d in slowdowns
            if all(testable(cohort) for cohort in d.callers)
        }
        # Blame by an open incident sticks while the endpoint stays slow (pauses shorter than
        # resolve_after included, as for any incident): a later state of the regression whose
        # explanation misses it, or its resolution while the endpoint is still slow, must not
        # turn the same slowdown into a second card.
        slow = {f.key[-1] for f in candidates}
        memory = timedelta(minutes=self._settings.resolve_after_minutes)
        last_slow = {**self._blamed, **dict.fromkeys(blamed_open, now)}
        self._blamed = {
            url: now if url in slow else seen
            for url, seen in last_slow.items()
            if url in slow or now - seen < memory
        }
        tested_for = timedelta(minutes=TESTED_CYCLES - 1)
        return [
            replace(f, decisive=True)
            for f in candidates
            if f.key[-1] not in blamed
            and f.key[-1] not in self._blamed
            and now - self._slow_since[f.key] >= ENDPOINT_SETTLE
            and f.key in self._tested_since
            and now - self._tested_since[f.key] >= tested_for
        ]

    def _slowdowns(self, now: datetime) -> list[_Slowdown]:
        s = self._settings
        all_windows = self._rollups.request_windows(now, s.current_windows_minutes)
        windows = [w for w in all_windows if w.route == "" and w.dimension == ""]
        baselines = self._rollups.request_baselines(
            now,
            s.baseline_lookback_minutes,
            s.baseline_gap_minutes,
            s.seasonal_days,
            s.seasonal_half_width_minutes,
        )
        findings = []
        for comparison in self.compare_all(now, windows, baselines, {}):
            if not comparison.strict:
                continue
            app, env, _, _, _, url = comparison.cohort
            window, ref = comparison.window, min(comparison.baselines, key=lambda b: b.q95)
            rise_pct = 100.0 * (window.q95 - ref.q95) / max(ref.q95, 1e-9)
            if window.q95 - ref.q95 < causes.ENDPOINT_MIN_RISE_MS or rise_pct < s.min_change_pct:
                continue
            evidence = Evidence(
                kind="endpoint_latency",
                subject=url,
                metric="p95_ms",
                before=round(ref.q95),
                after=round(window.q95),
                unit="ms",
            )
            level = confidence(
                z=comparison.shift.z,
                min_z=s.min_z,
                samples=window.samples,
                min_samples=s.min_samples,
                agreeing=1,
                compared=1,
                cause_found=True,
            )
            card = IncidentCard(
                id="",
                opened_at=now,
                updated_at=now,
                app=app,
                environment=env,
                kind=Kind.SLOW_ENDPOINT,
                metric="request_p95",
                statistic="p95",
                scope={"endpoint": url},
                baseline_value=round(ref.q95),
                current_value=round(window.q95),
                change_pct=round(rise_pct, 1),
                unit="ms",
                cause_kind=CauseKind.SLOW_ENDPOINT,
                cause=f"{url} p95 rose {round(window.q95 - ref.q95)} ms",
                evidence=[evidence],
                confidence=level,
                confidence_label=confidence_label(level),
                suggested_fix=suggested_action(CauseKind.SLOW_ENDPOINT, url),
            )
            card = card.model_copy(update={"dashboard_url": self.link(card, "api_performance")})
            callers = self._callers(now, comparison, all_windows, baselines)
            findings.append(_Slowdown(Finding(incident_key(card, url), card, True), callers))
        return findings

    def _callers(
        self, now: datetime, comparison: Comparison, windows: list[Window], baselines: list[Window]
    ) -> list[tuple[str, str, str, str, str]]:
        """The vital cohorts the slowdown shows in: the routes making the endpoint's calls,
        narrowed to the new release that carries the slowdown when one does."""
        app, env, _, _, _, url = comparison.cohort
        period = comparison.window.period
        calls = [
            w
            for w in windows
            if (w.app, w.environment, w.series, w.period, w.dimension)
            == (app, env, url, period, "")
            and w.route
        ]
        total = sum(w.samples for w in calls)
        routes = [w.route for w in calls if w.samples >= MIN_CALL_SHARE * total]
        release = self._carrying_release(now, comparison, windows, baselines)
        if release:
            return [(app, env, route, "release", release) for route in routes]
        return [(app, env, route, "", "") for route in routes]

    def _carrying_release(
        self, now: datetime, comparison: Comparison, windows: list[Window], baselines: list[Window]
    ) -> str:
        """A release new within the lookback whose calls are slow while older ones are not."""
        app, env, _, _, _, url = comparison.cohort
        lookback_start = now - timedelta(minutes=self._settings.baseline_lookback_minutes)
        first = {
            w.value: aware(w.first_minute)
            for w in baselines
            if (w.app, w.environment, w.route, w.dimension, w.series, w.period)
            == (app, env, "", "release", url, CONCURRENT)
            and w.first_minute is not None
        }
        rows = [
            w
            for w in windows
            if (w.app, w.environment, w.route, w.dimension, w.series, w.period)
            == (app, env, "", "release", url, comparison.window.period)
            and w.samples >= MIN_NAMING_SAMPLES
            and w.value in first
        ]
        slow_above = comparison.shift.before * (1 + self._settings.min_change_pct / 100)
        new = [
            w
            for w in rows
            if first[w.value] > lookback_start + NEW_RELEASE_MARGIN and w.q75 >= slow_above
        ]
        older = [w for w in rows if w not in new]
        if len(new) != 1 or any(w.q75 >= slow_above for w in older):
            return ""
        return new[0].value
