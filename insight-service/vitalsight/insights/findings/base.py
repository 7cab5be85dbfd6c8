"""What every finder shares: settings, queries, cohort comparison against baselines, links.

A cohort (route, route on one device/network, new release on the route; for requests the
endpoint) is compared in each current window with every baseline it has: the previous release
on the same route over the same hours for a new release, else the recent hours and the same
hour on the seasonal days. It must beat all of them (effect size AND significance, and stand
out from their spread), so daily and weekly rhythms, which the seasonal baselines share,
raise nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from vitalsight.grafana.uids import DASHBOARD_UIDS
from vitalsight.insights.card import IncidentCard
from vitalsight.insights.detect.percentile_shift import (
    Percentiles,
    Shift,
    is_regression,
    percentile_shift,
    standard_error,
)
from vitalsight.insights.detect.seasonal import robust_score
from vitalsight.insights.queries import (
    CONCURRENT,
    RECENT,
    ExplainQueries,
    Filters,
    RollupQueries,
    Window,
    seasonal_period,
)

if TYPE_CHECKING:
    from vitalsight.insights.engine import EngineSettings

NEW_RELEASE_MARGIN = timedelta(minutes=10)
MIN_CONCURRENT_SAMPLES = 10  # previous-release samples that make a comparison concurrent
CONCENTRATED_SHARE = 0.9  # a value holding this share of the samples "carries" them
MIN_NAMING_SAMPLES = 10  # a new release this thin can name a change, not prove one

RELEASE_DIMENSIONS = ("release", "release_device")  # cohorts of a new release
SPECIFICITY = {"release_device": 3, "release": 2, "": 0}  # device, network: 1
CohortKey = tuple[str, str, str, str, str, str]  # app, env, route, dimension, value, series


def _cohort(row: Window) -> CohortKey:
    return (row.app, row.environment, row.route, row.dimension, row.value, row.series)


@dataclass(frozen=True)
class Comparison:
    """The best-supported rise of one cohort: its window, baselines and the weakest shift."""

    cohort: CohortKey
    window: Window
    baselines: list[Window]
    shift: Shift  # against the baseline it beats by the least
    strict: bool
    baseline_release: str = ""
    holds: bool = False  # the shortest window with enough traffic still shows the rise


class Finder:
    """Base of the finders: the cycle's queries and the comparison of cohorts."""

    def __init__(self, reader: object, filters: Filters, settings: EngineSettings) -> None:
        self._reader = reader
        self._filters = filters
        self._settings = settings
        self._rollups = RollupQueries(reader, filters)
        self._explain = ExplainQueries(reader)
        self._present: dict[tuple[CohortKey, str], int] = {}  # this cycle's window samples

    def compare_all(
        self,
        now: datetime,
        windows: list[Window],
        baselines: list[Window],
        min_delta: dict[str, float],
    ) -> list[Comparison]:
        current: dict[CohortKey, list[Window]] = defaultdict(list)
        for row in windows:
            if row.samples >= self._settings.min_samples:
                current[_cohort(row)].append(row)
        before: dict[CohortKey, dict[str, Window]] = defaultdict(dict)
        for row in baselines:
            before[_cohort(row)][row.period] = row
        self._present = {(_cohort(row), row.period): row.samples for row in windows}
        result = []
        for cohort, rows in current.items():
            found = self._compare_cohort(now, cohort, rows, before, min_delta.get(cohort[5], 0.0))
            if found is not None:
                result.append(found)
        return result

    def _compare_cohort(
        self,
        now: datetime,
        cohort: CohortKey,
        rows: list[Window],
        before: dict[CohortKey, dict[str, Window]],
        min_delta: float,
    ) -> Comparison | None:
        refs, baseline_release = self._references(now, cohort, before)
        if not refs:
            return None
        s = self._settings
        candidates = []
        shortest = min(rows, key=lambda w: int(w.period.removeprefix("w")))
        holds = False
        for window in rows:
            if not self._concurrent(cohort, refs, window.period):
                continue
            # a new release beside the previous one, over the same minutes: one audience
            pooled = cohort[3] in RELEASE_DIMENSIONS
            shifts = [
                percentile_shift(percentiles(window), percentiles(ref), pooled=pooled)
                for ref in refs
            ]
            weakest = min(shifts, key=lambda shift: shift.z)
            weakest_pct = min(shift.change_pct for shift in shifts)
            strict = all(
                is_regression(
                    x, min_change_pct=s.min_change_pct, min_z=s.min_z, min_delta=min_delta
                )
                for x in shifts
            ) and self._seasonally_unusual(window, refs)
            loose = weakest_pct >= s.min_change_pct / 2 and weakest.z >= s.min_z / 2
            holds = holds or (loose and window is shortest)
            if strict or loose:
                candidates.append(
                    Comparison(cohort, window, refs, weakest, strict, baseline_release)
                )
        best = max(candidates, key=rank, default=None)
        return None if best is None else replace(best, holds=holds)

    def _concurrent(self, cohort: CohortKey, refs: list[Window], period: str) -> bool:
        """A new release is compared with the previous one only while both serve traffic in
        the window: once the rollout is over, the previous release's numbers are hours old
        and the daily rhythm would pass for a regression (the route cohorts take over)."""
        if cohort[3] not in RELEASE_DIMENSIONS:
            return True
        previous = (*cohort[:4], refs[0].value, cohort[5])
        return self._present.get((previous, period), 0) >= MIN_CONCURRENT_SAMPLES

    def _seasonally_unusual(self, window: Window, refs: list[Window]) -> bool:
        """With several comparable periods, the rise must also stand out from their spread
        (median/MAD), so a metric that swings between days anyway does not alert."""
        if len(refs) < 2:
            return True
        floor = standard_error(percentiles(window))
        score = robust_score(window.q75, [ref.q75 for ref in refs], floor=floor)
        return score >= self._settings.min_z

    def _references(
        self, now: datetime, cohort: CohortKey, before: dict[CohortKey, dict[str, Window]]
    ) -> tuple[list[Window], str]:
        """The baselines a cohort must beat (and the previous release, for a new release)."""
        app, env, route, dimension, value, series = cohort
        minimum = self._settings.min_samples
        if dimension in RELEASE_DIMENSIONS:
            own = before.get(cohort, {}).get(CONCURRENT)
            lookback_start = now - timedelta(minutes=self._settings.baseline_lookback_minutes)
            if own is None or own.first_minute is None:
                return [], ""
            if aware(own.first_minute) <= lookback_start + NEW_RELEASE_MARGIN:
                return [], ""  # not a new release: the route cohorts cover it
            previous = [
                periods[CONCURRENT]
                for key, periods in before.items()
                if key[:4] == (app, env, route, dimension)
                and split_release(key[4])[0] != split_release(value)[0]
                and split_release(key[4])[1] == split_release(value)[1]
                and key[5] == series
                and CONCURRENT in periods
                and periods[CONCURRENT].samples >= minimum
                and periods[CONCURRENT].first_minute is not None
                and aware(periods[CONCURRENT].first_minute) < aware(own.first_minute)  # type: ignore[arg-type]
            ]
            if not previous:
                return [], ""
            top = max(previous, key=lambda w: w.samples)
            return [top], split_release(top.value)[0]
        periods = before.get(cohort, {})
        names = [RECENT, *(seasonal_period(d) for d in self._settings.seasonal_days)]
        return [periods[n] for n in names if n in periods and periods[n].samples >= minimum], ""

    def link(self, card: IncidentCard, dashboard: str) -> str:
        if not self._settings.grafana_url:
            return ""
        start = card.opened_at - timedelta(hours=3)
        query = {"var-app": card.app, "from": int(start.timestamp() * 1000), "to": "now"}
        if card.route:
            query["var-route"] = card.route
        if card.release:
            query["var-release"] = card.release
        base = self._settings.grafana_url.rstrip("/")
        return f"{base}/d/{DASHBOARD_UIDS[dashboard]}?{urlencode(query)}"


def rank(comparison: Comparison) -> tuple[bool, int, float]:
    """Strict first, then the most specific cohort (a new release on one device says most and
    keeps a card's numbers steady from minute to minute), then the larger z."""
    return (comparison.strict, SPECIFICITY.get(comparison.cohort[3], 1), comparison.shift.z)


def specific_rank(comparison: Comparison) -> tuple[int, bool, float]:
    """The most specific cohort first, strict or not: the cohort a card's numbers come from."""
    return (SPECIFICITY.get(comparison.cohort[3], 1), comparison.strict, comparison.shift.z)


def split_release(value: str) -> tuple[str, str]:
    """A release cohort's value → (release, device); device "" for the whole release."""
    release, _, device = value.partition("|")
    return release, device


def percentiles(window: Window) -> Percentiles:
    return Percentiles(window.samples, window.q50, window.q75, window.q95, window.q65, window.q85)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
