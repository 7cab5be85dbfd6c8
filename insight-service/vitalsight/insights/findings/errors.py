"""Error spikes per fingerprint: exact rate tests, placement, new-error cause, change date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from vitalsight.insights.card import CauseKind, Evidence, IncidentCard, Kind
from vitalsight.insights.detect.changepoint import last_change_point
from vitalsight.insights.detect.error_rate import RateSpike, is_spike, rate_spike
from vitalsight.insights.explain.actions import suggested_action
from vitalsight.insights.explain.confidence import confidence, confidence_label
from vitalsight.insights.findings.base import (
    CONCENTRATED_SHARE,
    Finder,
)
from vitalsight.insights.lifecycle import Finding, IncidentKey, incident_key
from vitalsight.insights.queries import (
    ALL_ERRORS,
    PAGE_VIEWS,
    RECENT,
    Count,
    Slice,
    error_counts,
    seasonal_period,
)

MAX_LABEL_CHARS = 120
# The change shown when a rate rises from zero (a finite stand-in for "infinitely more").
FROM_ZERO_CHANGE_PCT = 1000.0

Periods = dict[str, Count]  # period or window name → count


@dataclass(frozen=True)
class Spike:
    """What the tests found for one fingerprint, before it is placed and explained."""

    app: str
    env: str
    fingerprint: str
    period: str  # the current window it was judged on
    baseline: str  # the baseline period its numbers are compared with
    strict: bool
    holds: bool
    p_value: float
    new: bool  # absent from every baseline


class ErrorFindings(Finder):
    """A fingerprint whose errors per page view rose, in every baseline, beyond chance."""

    def findings(self, now: datetime, is_open: Callable[[IncidentKey], bool]) -> list[Finding]:
        s = self._settings
        counts = error_counts(
            self._reader,
            self._filters,
            now,
            s.current_windows_minutes,
            s.baseline_lookback_minutes,
            s.baseline_gap_minutes,
            s.seasonal_days,
            s.seasonal_half_width_minutes,
        )
        table: dict[tuple[str, str, str], Periods] = defaultdict(dict)
        for count in counts:
            table[(count.app, count.environment, count.series)][count.period] = count
        findings = []
        for (app, env, series), periods in table.items():
            if series in (PAGE_VIEWS, ALL_ERRORS):
                continue
            views = table.get((app, env, PAGE_VIEWS), {})
            spike = self._test(app, env, series, periods, views)
            if spike is None:
                continue
            card = self._card(now, spike, periods, views, table.get((app, env, ALL_ERRORS), {}))
            finding = Finding(
                incident_key(card, series),
                card,
                spike.strict,
                spike.holds,
                decisive=spike.strict and spike.p_value <= s.error_max_p_value**2,
            )
            if spike.strict or is_open(finding.key):
                findings.append(finding)
        return findings

    def _test(
        self, app: str, env: str, fingerprint: str, periods: Periods, views: Periods
    ) -> Spike | None:
        """The best-supported window where the fingerprint's rate beats every baseline."""
        s = self._settings
        refs = [RECENT, *(seasonal_period(d) for d in s.seasonal_days)]
        baselines = [r for r in refs if r in views and views[r].samples >= s.min_samples]
        if not baselines:
            return None
        best: tuple[bool, str, RateSpike] | None = None
        holds: bool | None = None  # judged on the shortest window with enough traffic
        for minutes in s.current_windows_minutes:
            period = f"w{minutes}"
            if period not in views or views[period].samples < s.min_samples:
                continue
            if period not in periods:  # no such error lately: it no longer holds
                holds = False if holds is None else holds
                continue
            tests = [
                rate_spike(
                    periods[period].weight,
                    views[period].weight,
                    periods[r].weight if r in periods else 0.0,
                    views[r].weight,
                )
                for r in baselines
            ]
            strict = all(
                is_spike(
                    t,
                    min_ratio=s.error_rate_min_ratio,
                    min_count=s.error_min_count,
                    max_p_value=s.error_max_p_value,
                )
                for t in tests
            )
            loose = all(t.ratio >= s.error_rate_min_ratio / 1.5 for t in tests)
            holds = loose if holds is None else holds
            weakest = max(tests, key=lambda t: t.p_value)
            if (strict or loose) and (
                best is None or (strict, -weakest.p_value) > (best[0], -best[2].p_value)
            ):
                best = (strict, period, weakest)
        if best is None:
            return None
        strict, period, test = best
        new = all(periods.get(r) is None or periods[r].weight < 0.5 for r in baselines)
        return Spike(
            app, env, fingerprint, period, baselines[0], strict, bool(holds), test.p_value, new
        )

    def _card(
        self, now: datetime, spike: Spike, periods: Periods, views: Periods, all_errors: Periods
    ) -> IncidentCard:
        """Where the errors fall, what they are, and the app's error rate before and now."""
        s = self._settings
        minutes = int(spike.period.removeprefix("w"))
        now_slice = Slice(spike.app, spike.env, "", now - timedelta(minutes=minutes), now)
        placement = self._error_placement(spike.fingerprint, now_slice)
        route, release = placement.pop("route", ""), placement.pop("release", "")
        label = self._label(spike, now_slice)
        kind = (
            CauseKind.NEW_ERROR
            if spike.new
            else (CauseKind.RELEASE if release else CauseKind.UNKNOWN)
        )
        evidence = Evidence(
            kind="error_fingerprint",
            subject=label,
            metric="errors_per_view",
            before=round(_rate(periods.get(spike.baseline), views[spike.baseline]), 5),
            after=round(_rate(periods.get(spike.period), views[spike.period]), 5),
            unit="ratio",
            detail=f"fingerprint {spike.fingerprint}",
        )
        level = confidence(
            z=2 * s.min_z if spike.p_value < s.error_max_p_value**2 else s.min_z,
            min_z=s.min_z,
            samples=views[spike.period].samples,
            min_samples=s.min_samples,
            agreeing=1,
            compared=1,
            cause_found=spike.new,
        )
        rate_now = _rate(all_errors.get(spike.period), views[spike.period])
        rate_before = _rate(all_errors.get(spike.baseline), views[spike.baseline])
        change = (
            100.0 * (rate_now - rate_before) / rate_before if rate_before else FROM_ZERO_CHANGE_PCT
        )
        what = f"one new error fingerprint ({label})" if spike.new else f"error {label} rose"
        card = IncidentCard(
            id="",
            opened_at=now,
            updated_at=now,
            app=spike.app,
            environment=spike.env,
            kind=Kind.ERROR_SPIKE,
            metric="error_rate",
            statistic="rate",
            route=route,
            release=release,
            scope=placement,
            baseline_value=round(rate_before, 5),
            current_value=round(rate_now, 5),
            change_pct=round(change, 1),
            unit="ratio",
            cause_kind=kind,
            cause=what + self._since(spike.app, spike.env, now),
            evidence=[evidence],
            confidence=level,
            confidence_label=confidence_label(level),
            suggested_fix=suggested_action(kind, label),
        )
        return card.model_copy(update={"dashboard_url": self.link(card, "errors")})

    def _label(self, spike: Spike, now_slice: Slice) -> str:
        """ "Type: message" of the fingerprint (untrusted text, first line, bounded)."""
        before = Slice(
            spike.app, spike.env, "", now_slice.start - timedelta(hours=1), now_slice.start
        )
        fingerprints = self._explain.error_fingerprints(now_slice, before)
        detail = next(
            (f.detail for f in fingerprints if f.subject == spike.fingerprint), spike.fingerprint
        )
        return detail.split("\n", 1)[0][:MAX_LABEL_CHARS]

    def _since(self, app: str, env: str, now: datetime) -> str:
        """ " since HH:MM" when the last hour's errors per page view show a change point."""
        rows = [
            (minute, errors / views)
            for minute, views, errors in self._explain.page_view_counts(now, 60, app, env)
            if views > 0
        ]
        index = last_change_point([rate for _, rate in rows])
        if index is None:
            return ""
        return f" since {rows[index][0]:%H:%M}"

    def _error_placement(self, fingerprint: str, now_slice: Slice) -> dict[str, str]:
        """Dimension values holding ≥ 90% of the fingerprint's errors (but, except releases,
        not ≥ 90% of the traffic: that would say nothing)."""
        rows = self._explain.error_dimensions(fingerprint, now_slice)
        totals: dict[str, tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))
        for dimension, _, errors, views in rows:
            e, v = totals[dimension]
            totals[dimension] = (e + errors, v + views)
        placement = {}
        for dimension, value, errors, views in rows:
            all_errors, all_views = totals[dimension]
            if (
                value
                and all_errors > 0
                and errors / all_errors >= CONCENTRATED_SHARE
                # A release is named whenever it holds the errors (even fully rolled out);
                # other values only when they are not simply most of the traffic.
                and (
                    dimension == "release"
                    or all_views <= 0
                    or views / all_views < CONCENTRATED_SHARE
                )
            ):
                placement[dimension] = value
        if "browser" in placement:
            versions = self._explain.error_browser_versions(fingerprint, now_slice)
            total = sum(weight for _, weight in versions)
            top = max(versions, key=lambda item: item[1], default=("", 0.0))
            if total > 0 and top[1] / total >= CONCENTRATED_SHARE:
                placement["browser_version"] = top[0]
        return placement


def _rate(errors: Count | None, views: Count) -> float:
    return (errors.weight if errors else 0.0) / max(views.weight, 1e-9)
