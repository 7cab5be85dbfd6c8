"""Endpoint slowdowns that no vital regression claims as its cause."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from vitalsight.insights.card import CauseKind, Evidence, IncidentCard, Kind
from vitalsight.insights.explain import causes
from vitalsight.insights.explain.actions import suggested_action
from vitalsight.insights.explain.confidence import confidence, confidence_label
from vitalsight.insights.findings.base import (
    Finder,
)
from vitalsight.insights.lifecycle import Finding, IncidentKey, incident_key
from vitalsight.insights.queries import Filters

if TYPE_CHECKING:
    from vitalsight.insights.engine import EngineSettings

# A slow endpoint gets its own card only after this long, so the vital regression it causes
# (usually found within two minutes) claims it as its cause first: one card, not two.
ENDPOINT_SETTLE = timedelta(minutes=4)


class EndpointFindings(Finder):
    """An endpoint (app-wide url template) whose latency rose against every baseline."""

    def __init__(self, reader: object, filters: Filters, settings: EngineSettings) -> None:
        super().__init__(reader, filters, settings)
        self._slow_since: dict[IncidentKey, datetime] = {}  # first cycle each was seen slow
        self._blamed: set[str] = set()  # slow endpoints a vital regression named as cause

    def findings(self, now: datetime, blamed: set[str]) -> list[Finding]:
        """Settled slowdowns of endpoints not `blamed` by a vital regression."""
        candidates = self._slowdowns(now)
        self._slow_since = {f.key: self._slow_since.get(f.key, now) for f in candidates}
        # Blame sticks while the endpoint stays slow: a cycle where the vital's explanation
        # misses it must not turn the same slowdown into a second card.
        slow = {f.key[-1] for f in candidates}
        self._blamed = (self._blamed | blamed) & slow
        return [
            f
            for f in candidates
            if f.key[-1] not in self._blamed and now - self._slow_since[f.key] >= ENDPOINT_SETTLE
        ]

    def _slowdowns(self, now: datetime) -> list[Finding]:
        s = self._settings
        windows = [
            w
            for w in self._rollups.request_windows(now, s.current_windows_minutes)
            if w.route == "" and w.dimension == ""
        ]
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
            findings.append(Finding(incident_key(card, url), card, True))
        return findings
