"""Vital regressions: per route cohort, explained by where (attribution) and why (causes)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from vitalsight.insights.card import CauseKind, Evidence, IncidentCard, Kind
from vitalsight.insights.detect.anomaly import anomaly_probability
from vitalsight.insights.explain import causes
from vitalsight.insights.explain.actions import suggested_action
from vitalsight.insights.explain.attribution import scope_of_change, traffic_mix_shift
from vitalsight.insights.explain.confidence import confidence, confidence_label
from vitalsight.insights.findings.base import (
    CONCENTRATED_SHARE,
    MIN_NAMING_SAMPLES,
    NEW_RELEASE_MARGIN,
    RELEASE_DIMENSIONS,
    Comparison,
    Finder,
    aware,
    rank,
    specific_rank,
    split_release,
)
from vitalsight.insights.lifecycle import Finding, IncidentKey, incident_key
from vitalsight.insights.queries import (
    CONCURRENT,
    RECENT,
    Breakdown,
    Filters,
    Slice,
    Window,
)

if TYPE_CHECKING:
    from vitalsight.insights.engine import EngineSettings

# Smallest rise worth a card, per vital (web.dev thresholds are 10-20 times these).
MIN_DELTA = {"LCP": 100.0, "FCP": 100.0, "TTFB": 50.0, "INP": 30.0, "CLS": 0.02}
UNITS = {"CLS": "score"}
# Which causes can explain which vital, in the order they are tried.
CAUSE_ORDER = {
    "LCP": ("endpoint", "bundle", "long_tasks"),
    "FCP": ("bundle", "endpoint"),
    "INP": ("long_tasks", "bundle"),
    "CLS": ("bundle",),
    "TTFB": (),
}
# A rise with z this many times the threshold opens at once instead of waiting a cycle.
DECISIVE_Z_FACTOR = 2.0
ANOMALY_BUCKET_MIN = 5  # the route's history of multi-metric states, in 5-minute steps


class VitalFindings(Finder):
    """One finding per (route, vital): the best-supported of its cohorts, explained."""

    def __init__(self, reader: object, filters: Filters, settings: EngineSettings) -> None:
        super().__init__(reader, filters, settings)
        self.windows: list[Window] = []  # the last cycle's current windows

    def testable(self, metrics: tuple[str, ...]) -> Callable[[tuple[str, ...]], bool]:
        """Whether a cohort (app, env, route, dimension, value) could be tested on `metrics`
        in the last cycle: some window of it holds min_samples, or it has no such vital."""
        largest: dict[tuple[str, ...], int] = {}
        for w in self.windows:
            if w.series in metrics:
                key = (w.app, w.environment, w.route, w.dimension, w.value)
                largest[key] = max(largest.get(key, 0), w.samples)
        reports = {key[:3] for key in largest}
        minimum = self._settings.min_samples

        def can_test(cohort: tuple[str, ...]) -> bool:
            return cohort[:3] not in reports or largest.get(cohort, 0) >= minimum

        return can_test

    def findings(self, now: datetime, is_open: Callable[[IncidentKey], bool]) -> list[Finding]:
        s = self._settings
        windows = self._rollups.vital_windows(now, s.current_windows_minutes)
        baselines = self._rollups.vital_baselines(
            now,
            s.baseline_lookback_minutes,
            s.baseline_gap_minutes,
            s.seasonal_days,
            s.seasonal_half_width_minutes,
        )
        self.windows = windows
        comparisons = self.compare_all(now, windows, baselines, MIN_DELTA)
        # Per (route, vital): strict if any cohort is, holds if any cohort does; the numbers
        # come from the most specific cohort that shows the rise, so they stay steady.
        best: dict[tuple[str, str, str, str], Comparison] = {}
        holds: set[tuple[str, str, str, str]] = set()
        strict: set[tuple[str, str, str, str]] = set()
        decisive: set[tuple[str, str, str, str]] = set()
        releases: dict[tuple[str, str, str, str], Comparison] = {}
        for comparison in comparisons:
            app, env, route, _, _, metric = comparison.cohort
            key = (app, env, route, metric)
            if comparison.holds:
                holds.add(key)
            if comparison.strict:
                strict.add(key)
                if comparison.shift.z >= DECISIVE_Z_FACTOR * self._settings.min_z:
                    decisive.add(key)
            if key not in best or specific_rank(comparison) > specific_rank(best[key]):
                best[key] = comparison
            if comparison.cohort[3] in RELEASE_DIMENSIONS and (
                key not in releases or rank(comparison) > rank(releases[key])
            ):
                releases[key] = comparison  # names the release even if another cohort wins
        best = {
            key: replace(c, holds=key in holds, strict=key in strict) for key, c in best.items()
        }
        findings = []
        for key, comparison in best.items():
            card = self._vital_card(now, comparison, windows, baselines, releases.get(key))
            identity = incident_key(card)
            if comparison.strict or is_open(identity):
                explained = self._explain_vital(now, card, comparison)
                # A rise the traffic mix explains (more slow networks or devices, no segment
                # slower by itself) is sampling or audience, not a regression: it never opens.
                opens = comparison.strict and explained.cause_kind is not CauseKind.TRAFFIC_MIX
                findings.append(
                    Finding(identity, explained, opens, comparison.holds, key in decisive)
                )
        return findings

    def _vital_card(
        self,
        now: datetime,
        comparison: Comparison,
        windows: list[Window],
        baselines: list[Window],
        release_hint: Comparison | None,
    ) -> IncidentCard:
        app, env, route, dimension, value, metric = comparison.cohort
        release, device = split_release(value) if dimension in RELEASE_DIMENSIONS else ("", "")
        baseline_release = comparison.baseline_release
        if not release and release_hint is not None:
            release, baseline_release = (
                split_release(release_hint.cohort[4])[0],
                (release_hint.baseline_release),
            )
        if not release:
            release, baseline_release = self._rising_new_release(
                now, comparison, windows, baselines
            )
        if not release:
            release = _dominant_new_release(comparison, windows, baselines)
        scope = {dimension: value} if dimension in ("device", "network") else {}
        if device:
            scope["device"] = device
        s = self._settings
        shift = comparison.shift
        level = confidence(
            z=shift.z,
            min_z=s.min_z,
            samples=comparison.window.samples,
            min_samples=s.min_samples,
            agreeing=len(comparison.baselines),
            compared=len(comparison.baselines),
            cause_found=False,
        )
        return IncidentCard(
            id="",
            opened_at=now,
            updated_at=now,
            app=app,
            environment=env,
            kind=Kind.REGRESSION,
            metric=metric,
            statistic="p75",
            route=route,
            release=release,
            baseline_release=baseline_release,
            scope=scope,
            baseline_value=round(shift.before, 3),
            current_value=round(shift.after, 3),
            change_pct=round(shift.change_pct, 1),
            unit=UNITS.get(metric, "ms"),
            confidence=level,
            confidence_label=confidence_label(level),
        )

    def _explain_vital(
        self, now: datetime, card: IncidentCard, comparison: Comparison
    ) -> IncidentCard:
        now_slice, before_slice = self._slices(now, card, comparison)
        breakdown = self._explain.vital_breakdown(card.metric, now_slice, before_slice)
        scope = {
            **scope_of_change(
                breakdown,
                min_samples=max(10, self._settings.min_samples // 4),
                min_change_pct=self._settings.min_change_pct,
            ),
            **card.scope,
        }
        # Against earlier hours (not a release beside its predecessor), a rise the traffic mix
        # explains is the audience, whatever else changed meanwhile: the mix is judged first,
        # so an unrelated slower endpoint or bigger bundle cannot turn it into a regression.
        across_time = not comparison.baseline_release
        cause = None
        if across_time:
            cause = self._mix_cause(
                self._cohort_breakdown(card, breakdown, now_slice, before_slice)
            )
        if cause is None:
            cause = self._find_cause(now, card, comparison, now_slice, before_slice)
        if cause is None and not across_time:
            cause = self._mix_cause(
                self._cohort_breakdown(card, breakdown, now_slice, before_slice)
            )
        if cause is None and card.release:
            cause = causes.Cause(
                CauseKind.RELEASE,
                card.release,
                f"release {card.release} changed {card.metric} with no finer cause found",
            )
        s = self._settings
        level = confidence(
            z=comparison.shift.z,
            min_z=s.min_z,
            samples=comparison.window.samples,
            min_samples=s.min_samples,
            agreeing=len(comparison.baselines),
            compared=len(comparison.baselines),
            cause_found=cause is not None and cause.kind is not CauseKind.RELEASE,
            anomaly=self._anomaly(now, card, now_slice),
        )
        kind = cause.kind if cause else CauseKind.UNKNOWN
        subject = cause.subject if cause else ""
        return card.model_copy(
            update={
                "scope": scope,
                "cause_kind": kind,
                "cause": cause.text if cause else "",
                "evidence": cause.evidence if cause else [],
                "suggested_fix": suggested_action(kind, subject),
                "confidence": level,
                "confidence_label": confidence_label(level),
                "dashboard_url": self.link(
                    card, "release_comparison" if card.release else "routes"
                ),
            }
        )

    def _rising_new_release(
        self, now: datetime, comparison: Comparison, windows: list[Window], baselines: list[Window]
    ) -> tuple[str, str]:
        """(new release, previous release) when a release new on the route, still too thin to
        be tested on its own, already shows the rise against the previous one: the card names
        it from the start, not one update later."""
        lookback_start = now - timedelta(minutes=self._settings.baseline_lookback_minutes)
        concurrent = {w.value: w for w in _rows_of(baselines, comparison, "release", CONCURRENT)}
        best: tuple[int, str, str] | None = None
        for row in _rows_of(windows, comparison, "release", comparison.window.period):
            own = concurrent.get(row.value)
            if row.samples < MIN_NAMING_SAMPLES or own is None or own.first_minute is None:
                continue
            if aware(own.first_minute) <= lookback_start + NEW_RELEASE_MARGIN:
                continue
            older = [
                w
                for w in concurrent.values()
                if w.first_minute is not None
                and aware(w.first_minute) < aware(own.first_minute)
                and w.samples >= self._settings.min_samples
            ]
            previous = max(older, key=lambda w: w.samples, default=None)
            if previous is None:
                continue
            rise_pct = 100.0 * (row.q75 - previous.q75) / max(abs(previous.q75), 1e-9)
            if rise_pct >= self._settings.min_change_pct / 2 and (
                best is None or row.samples > best[0]
            ):
                best = (row.samples, row.value, previous.value)
        return (best[1], best[2]) if best else ("", "")

    def _anomaly(self, now: datetime, card: IncidentCard, now_slice: Slice) -> float:
        """How unusual the route's vitals are together now, against its recent 5-minute
        states (robust Mahalanobis distance, detect.anomaly); 1 when too little history."""
        s = self._settings
        history_slice = Slice(
            card.app,
            card.environment,
            card.route,
            now - timedelta(minutes=s.baseline_lookback_minutes),
            now - timedelta(minutes=s.baseline_gap_minutes),
        )
        history = self._explain.route_profile(history_slice, ANOMALY_BUCKET_MIN)
        minutes = max(1, int((now_slice.end - now_slice.start).total_seconds() // 60))
        current = self._explain.route_profile(
            Slice(card.app, card.environment, card.route, now_slice.start, now_slice.end),
            minutes,
        )
        if not current:
            return 1.0
        state = next(iter(current.values()))
        names = sorted(n for n in state if all(n in h for h in history.values()))
        vectors = [[math.log1p(h[n]) for n in names] for h in history.values()]
        if not names or len(vectors) < 3 * len(names) + 2:
            return 1.0
        return anomaly_probability(vectors, [math.log1p(state[n]) for n in names])

    def _cohort_breakdown(
        self, card: IncidentCard, route_wide: list[Breakdown], now_slice: Slice, before: Slice
    ) -> list[Breakdown]:
        """The breakdown within the card's device or network, when it has one: a rise on
        mobile is a mix effect only if mobile's own mix moved, whatever the route's did."""
        device, network = card.scope.get("device"), card.scope.get("network")
        if device is None and network is None:
            return route_wide
        return self._explain.vital_breakdown(
            card.metric,
            replace(now_slice, device=device, network=network),
            replace(before, device=device, network=network),
        )

    def _mix_cause(self, breakdown: list[Breakdown]) -> causes.Cause | None:
        shift = traffic_mix_shift(
            breakdown,
            min_samples=max(10, self._settings.min_samples // 4),
            min_change_pct=self._settings.min_change_pct,
        )
        if shift is None:
            return None
        before, after = round(100 * shift.share_before), round(100 * shift.share_now)
        evidence = Evidence(
            kind="traffic_share",
            subject=shift.value,
            metric="share_pct",
            before=before,
            after=after,
            unit="%",
            detail=shift.dimension,
        )
        text = (
            f"more traffic from {shift.value} ({before}% → {after}% of page views), "
            "which is slower, while no segment got slower by itself"
        )
        return causes.Cause(CauseKind.TRAFFIC_MIX, shift.value, text, [evidence])

    def _slices(
        self, now: datetime, card: IncidentCard, comparison: Comparison
    ) -> tuple[Slice, Slice]:
        minutes = int(comparison.window.period.removeprefix("w"))
        lookback = now - timedelta(minutes=self._settings.baseline_lookback_minutes)
        gap = now - timedelta(minutes=self._settings.baseline_gap_minutes)
        now_slice = Slice(
            card.app,
            card.environment,
            card.route,
            now - timedelta(minutes=minutes),
            now,
            card.release if comparison.baseline_release else "",
        )
        if comparison.baseline_release:
            before = Slice(
                card.app, card.environment, card.route, lookback, now, comparison.baseline_release
            )
        else:
            before = Slice(card.app, card.environment, card.route, lookback, gap)
        return now_slice, before

    def _find_cause(
        self,
        now: datetime,
        card: IncidentCard,
        comparison: Comparison,
        now_slice: Slice,
        before_slice: Slice,
    ) -> causes.Cause | None:
        for name in CAUSE_ORDER.get(card.metric, ()):
            if name == "endpoint":
                found = causes.slow_endpoint(self._endpoint_pairs(now, card, comparison))
            elif name == "bundle":
                app_now = Slice(**{**now_slice.__dict__, "route": ""})
                app_before = Slice(**{**before_slice.__dict__, "route": ""})
                found = causes.bundle_growth(self._explain.resource_sizes(app_now, app_before))
            else:
                found = causes.long_tasks(self._explain.long_task_scripts(now_slice, before_slice))
            if found is not None:
                return found
        return None

    def _endpoint_pairs(
        self, now: datetime, card: IncidentCard, comparison: Comparison
    ) -> Iterable[tuple[Window, Window]]:
        s = self._settings
        windows = self._rollups.request_windows(now, s.current_windows_minutes)
        baselines = self._rollups.request_baselines(
            now,
            s.baseline_lookback_minutes,
            s.baseline_gap_minutes,
            (),
            s.seasonal_half_width_minutes,
        )
        called = {w.series for w in windows if w.route == card.route and w.dimension == ""}
        period = comparison.window.period
        if comparison.baseline_release:
            now_rows = {
                w.series: w
                for w in windows
                if w.route == ""
                and w.dimension == "release"
                and w.value == card.release
                and w.period == period
            }
            before_rows = {
                w.series: w
                for w in baselines
                if w.route == ""
                and w.dimension == "release"
                and w.value == comparison.baseline_release
                and w.period == CONCURRENT
            }
        else:
            now_rows = {
                w.series: w
                for w in windows
                if w.route == card.route and w.dimension == "" and w.period == period
            }
            before_rows = {
                w.series: w
                for w in baselines
                if w.route == card.route and w.dimension == "" and w.period == RECENT
            }
        return [
            (now_rows[url], before_rows[url])
            for url in sorted(called)
            if url in now_rows
            and url in before_rows
            and before_rows[url].samples >= 5
            and now_rows[url].samples >= 5
        ]


def _rows_of(
    rows: list[Window], comparison: Comparison, dimension: str, period: str
) -> list[Window]:
    app, env, route, _, _, metric = comparison.cohort
    return [
        w
        for w in rows
        if (w.app, w.environment, w.route, w.dimension, w.series, w.period)
        == (app, env, route, dimension, metric, period)
    ]


def _dominant_new_release(
    comparison: Comparison, windows: list[Window], baselines: list[Window]
) -> str:
    """The release holding ≥ 90% of the window's samples when it was (nearly) absent before."""
    app, env, route, _, _, metric = comparison.cohort
    period = comparison.window.period
    rows = [
        w
        for w in windows
        if (w.app, w.environment, w.route, w.dimension, w.series, w.period)
        == (app, env, route, "release", metric, period)
    ]
    total = sum(w.samples for w in rows)
    top = max(rows, key=lambda w: w.samples, default=None)
    if top is None or total == 0 or top.samples / total < CONCENTRATED_SHARE:
        return ""
    before = [
        w
        for w in baselines
        if (w.app, w.environment, w.route, w.dimension, w.series, w.period)
        == (app, env, route, "release", metric, RECENT)
    ]
    before_total = sum(w.samples for w in before)
    before_top = sum(w.samples for w in before if w.value == top.value)
    return top.value if before_total and before_top / before_total < 1 - CONCENTRATED_SHARE else ""
