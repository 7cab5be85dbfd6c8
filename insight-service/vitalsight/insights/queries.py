"""The SQL the insight engine reads: one query per question, a handful per cycle.

Every query reads whole minutes before `now` from the per-minute rollups (weights are
Σ 1/sample_rate, quantiles are weighted the same way), so replaying history at a simulated
`now` sees exactly what a live cycle would have seen. Parameters are bound server side
(`{name:Type}`), never formatted into the text.

Cohorts: each rollup row is counted in several cohorts at once (ARRAY JOIN), so one query
answers "this route", "this route on this device", "this route in this release" and the
app-wide equivalents. A cohort is (route, dimension, value); route "" is the whole app and
dimension "" the whole route.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# q65 and q85 bracket the 75th percentile for its standard error (detect.percentile_shift);
# a TDigest state answers any levels, whatever levels the rollup was written with.
QUANTILES = "0.5, 0.65, 0.75, 0.85, 0.95"

# Period names of the baseline queries.
RECENT = "recent"  # [now - lookback, now - gap): the same series just before
CONCURRENT = "concurrent"  # [now - lookback, now): other releases over the same time


def seasonal_period(days: int) -> str:
    return f"day-{days}"


@dataclass(frozen=True)
class Window:
    """Cumulative numbers of one cohort of one series over one period or window."""

    app: str
    environment: str
    route: str
    dimension: str
    value: str
    series: str  # vital name, or url_template for requests
    period: str  # "w<minutes>" for current windows, else a baseline period
    samples: int
    weight: float
    q50: float
    q75: float
    q95: float
    first_minute: datetime | None = None
    errors: float = 0.0
    q65: float | None = None
    q85: float | None = None


@dataclass(frozen=True)
class Filters:
    app: str | None
    environment: str | None

    def sql(self) -> str:
        clauses = []
        if self.app is not None:
            clauses.append("app = {app:String}")
        if self.environment is not None:
            clauses.append("environment = {environment:String}")
        return "".join(f" AND {c}" for c in clauses)

    def parameters(self) -> dict[str, Any]:
        return {"app": self.app or "", "environment": self.environment or ""}


# Vital cohorts are per route: a card names the route it is about. Device and network
# cohorts catch a change confined to them before it is diluted in the route's whole traffic;
# release cohorts compare a new release with the previous one, also per device
# ("release_device", value "release|device") for a release that only hurts some devices.
_VITAL_COHORTS = """[
    (route, '', ''), (route, 'device', device), (route, 'network', network),
    (route, 'release', release), (route, 'release_device', concat(release, '|', device))
]"""
_REQUEST_COHORTS = """[(route, '', ''), ('', '', ''), ('', 'release', release)]"""


def _periods_sql(seasonal_days: Sequence[int]) -> str:
    """An array of the baseline periods a minute belongs to (maybe several, maybe none)."""
    parts = [
        f"if(minute >= now_ - lookback AND minute < now_ - gap, ['{RECENT}'], [])",
        f"if(minute >= now_ - lookback, ['{CONCURRENT}'], [])",
    ]
    for days in seasonal_days:
        parts.append(
            f"if(minute >= now_ - {int(days) * 86400} - half AND minute < now_ - "
            f"{int(days) * 86400} + half, ['{seasonal_period(days)}'], [])"
        )
    return "arrayConcat(" + ", ".join(parts) + ")"


def _common_with() -> str:
    return """WITH
    toStartOfMinute(toDateTime({now:DateTime}, 'UTC')) AS now_,  -- whole minutes only
    {lookback:UInt32} AS lookback,
    {gap:UInt32} AS gap,
    {half:UInt32} AS half"""


def _windowed(inner: str, windows: Sequence[int], extra: str = "") -> str:
    """Cumulative current windows (minutes ending at now) over per-minute cohort states."""
    window_list = ", ".join(str(int(w)) for w in windows)
    return f"""
SELECT app, environment, cohort_route, dimension, dim_value, series, concat('w', toString(w)),
    sum(samples), sum(weight), quantilesTDigestWeightedMerge({QUANTILES})(state),
    min(minute), sum(errors)
FROM ({inner})
ARRAY JOIN [{window_list}] AS w
WHERE minute >= now_ - w * 60
GROUP BY app, environment, cohort_route, dimension, dim_value, series, w{extra}
"""


def _per_minute(table: str, state: str, series: str, errors: str, cohorts: str, where: str) -> str:
    return f"""
SELECT minute, app, environment, cohort.1 AS cohort_route, cohort.2 AS dimension,
    cohort.3 AS dim_value, {series} AS series, sum(samples) AS samples, sum(weight) AS weight,
    quantilesTDigestWeightedMergeState({QUANTILES})({state}) AS state, sum({errors}) AS errors
FROM {table}
ARRAY JOIN {cohorts} AS cohort
WHERE {where}
GROUP BY minute, app, environment, cohort_route, dimension, dim_value, series
"""


def _baseline(
    inner_table: str,
    state: str,
    series: str,
    errors: str,
    cohorts: str,
    where: str,
    seasonal_days: Sequence[int],
) -> str:
    return f"""
SELECT app, environment, cohort.1 AS cohort_route, cohort.2 AS dimension, cohort.3 AS dim_value,
    {series} AS series, period, sum(samples), sum(weight),
    quantilesTDigestWeightedMerge({QUANTILES})({state}), min(minute), sum({errors})
FROM {inner_table}
ARRAY JOIN {cohorts} AS cohort
ARRAY JOIN {_periods_sql(seasonal_days)} AS period
WHERE {where}
GROUP BY app, environment, cohort_route, dimension, dim_value, series, period
"""


class RollupQueries:
    """The engine's questions to the rollups, for one set of filters."""

    def __init__(self, reader: Any, filters: Filters) -> None:
        self._reader = reader
        self._filters = filters

    def _rows(self, sql: str, now: datetime, **parameters: Any) -> list[Window]:
        bound = {"now": now.replace(tzinfo=None), **self._filters.parameters(), **parameters}
        result = self._reader.query(sql, parameters=bound)
        return [_window(row) for row in result.result_rows]

    def vital_windows(self, now: datetime, windows: Sequence[int]) -> list[Window]:
        where = "minute >= now_ - {span:UInt32} AND minute + 60 <= now_" + self._filters.sql()
        inner = _per_minute("rum_vitals_1m", "value_quantiles", "name", "0", _VITAL_COHORTS, where)
        sql = _common_with() + _windowed(inner, windows)
        return self._rows(sql, now, span=max(windows) * 60, lookback=0, gap=0, half=0)

    def vital_baselines(
        self,
        now: datetime,
        lookback_min: int,
        gap_min: int,
        seasonal_days: Sequence[int],
        half_min: int,
    ) -> list[Window]:
        sql = _common_with() + _baseline(
            "rum_vitals_1m",
            "value_quantiles",
            "name",
            "0",
            _VITAL_COHORTS,
            _baseline_where(seasonal_days) + self._filters.sql(),
            seasonal_days,
        )
        return self._rows(
            sql, now, lookback=lookback_min * 60, gap=gap_min * 60, half=half_min * 60
        )

    def request_windows(self, now: datetime, windows: Sequence[int]) -> list[Window]:
        where = "minute >= now_ - {span:UInt32} AND minute + 60 <= now_" + self._filters.sql()
        inner = _per_minute(
            "rum_requests_1m",
            "duration_quantiles",
            "url_template",
            "errors",
            _REQUEST_COHORTS,
            where,
        )
        sql = _common_with() + _windowed(inner, windows)
        return self._rows(sql, now, span=max(windows) * 60, lookback=0, gap=0, half=0)

    def request_baselines(
        self,
        now: datetime,
        lookback_min: int,
        gap_min: int,
        seasonal_days: Sequence[int],
        half_min: int,
    ) -> list[Window]:
        sql = _common_with() + _baseline(
            "rum_requests_1m",
            "duration_quantiles",
            "url_template",
            "errors",
            _REQUEST_COHORTS,
            _baseline_where(seasonal_days) + self._filters.sql(),
            seasonal_days,
        )
        return self._rows(
            sql, now, lookback=lookback_min * 60, gap=gap_min * 60, half=half_min * 60
        )


def _baseline_where(seasonal_days: Sequence[int]) -> str:
    """Only the minutes of some baseline period, so a cycle never scans a whole week."""
    ranges = ["(minute >= now_ - lookback AND minute + 60 <= now_)"]
    for days in seasonal_days:
        offset = int(days) * 86400
        ranges.append(f"(minute >= now_ - {offset} - half AND minute < now_ - {offset} + half)")
    return "(" + " OR ".join(ranges) + ")"


def _window(row: Sequence[Any]) -> Window:
    app, environment, route, dimension, value, series, period = row[:7]
    samples, weight, quantiles, first_minute, errors = row[7:12]
    q50, q65, q75, q85, q95 = (float(q) for q in quantiles)
    return Window(
        app=app,
        environment=environment,
        route=route,
        dimension=dimension,
        value=value,
        series=series,
        period=period,
        samples=int(samples),
        weight=float(weight),
        q50=q50,
        q65=q65,
        q85=q85,
        q75=q75,
        q95=q95,
        first_minute=first_minute,
        errors=float(errors),
    )


@dataclass(frozen=True)
class Slice:
    """Where and when: the rows one side of a comparison reads."""

    app: str
    environment: str
    route: str  # "" for the whole app
    start: datetime
    end: datetime
    release: str = ""  # "" for every release
    # Confined to one device or network value (a cohort's own traffic); None: all of them.
    device: str | None = None
    network: str | None = None


_SLICE_WHERE = """app = {%(p)sapp:String} AND environment = {%(p)senv:String}
    AND ({%(p)sroute:String} = '' OR route = {%(p)sroute:String})
    AND ({%(p)srelease:String} = '' OR release = {%(p)srelease:String})
    AND (NOT {%(p)sby_device:Bool} OR device = {%(p)sdevice:String})
    AND (NOT {%(p)sby_network:Bool} OR network = {%(p)snetwork:String})
    AND %(time)s >= toDateTime({%(p)sstart:DateTime}, 'UTC')
    AND %(time)s < toDateTime({%(p)send:DateTime}, 'UTC')"""


def _slice_where(prefix: str, time_column: str) -> str:
    return _SLICE_WHERE % {"p": prefix, "time": time_column}


def _slice_parameters(prefix: str, part: Slice) -> dict[str, Any]:
    return {
        f"{prefix}app": part.app,
        f"{prefix}env": part.environment,
        f"{prefix}route": part.route,
        f"{prefix}release": part.release,
        f"{prefix}by_device": part.device is not None,
        f"{prefix}device": part.device or "",
        f"{prefix}by_network": part.network is not None,
        f"{prefix}network": part.network or "",
        f"{prefix}start": part.start.replace(tzinfo=None),
        f"{prefix}end": part.end.replace(tzinfo=None),
    }


@dataclass(frozen=True)
class Breakdown:
    """One dimension value on both sides of a comparison."""

    dimension: str
    value: str
    samples_now: int
    q75_now: float
    samples_before: int
    q75_before: float
    # q65 and q85 on each side, for the significance of the value's own change (if known)
    q65_now: float | None = None
    q85_now: float | None = None
    q65_before: float | None = None
    q85_before: float | None = None


@dataclass(frozen=True)
class Contribution:
    """A subject's (resource, script, endpoint, fingerprint) amount on both sides."""

    subject: str
    now: float
    before: float
    samples_now: int
    samples_before: int
    detail: str = ""


class ExplainQueries:
    """The questions asked only about a candidate: where it is, and what changed with it."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def _query(self, sql: str, now: Slice, before: Slice) -> list[Sequence[Any]]:
        parameters = {**_slice_parameters("n_", now), **_slice_parameters("b_", before)}
        return list(self._reader.query(sql, parameters=parameters).result_rows)

    def vital_breakdown(self, metric: str, now: Slice, before: Slice) -> list[Breakdown]:
        """p75 of `metric` by device, browser, country, network on both sides."""
        sql = f"""
SELECT dim.1, dim.2,
    sumIf(samples, side = 1),
    quantilesTDigestWeightedMergeIf({QUANTILES})(value_quantiles, side = 1),
    sumIf(samples, side = 0),
    quantilesTDigestWeightedMergeIf({QUANTILES})(value_quantiles, side = 0)
FROM (
    SELECT *, if({_slice_where("n_", "minute")}, 1, 0) AS side FROM rum_vitals_1m
    WHERE name = {{metric:String}}
      AND (({_slice_where("n_", "minute")}) OR ({_slice_where("b_", "minute")}))
)
ARRAY JOIN [('device', device), ('browser', browser), ('country', country),
            ('network', network)] AS dim
GROUP BY dim.1, dim.2
"""
        parameters = {
            **_slice_parameters("n_", now),
            **_slice_parameters("b_", before),
            "metric": metric,
        }
        rows = self._reader.query(sql, parameters=parameters).result_rows
        return [
            Breakdown(
                dimension=row[0],
                value=row[1],
                samples_now=int(row[2]),
                q75_now=float(row[3][2]),
                samples_before=int(row[4]),
                q75_before=float(row[5][2]),
                q65_now=float(row[3][1]),
                q85_now=float(row[3][3]),
                q65_before=float(row[5][1]),
                q85_before=float(row[5][3]),
            )
            for row in rows
        ]

    def resource_sizes(self, now: Slice, before: Slice) -> list[Contribution]:
        """Mean transfer size (bytes) of each script and stylesheet on both sides."""
        sql = f"""
SELECT url,
    avgIf(transfer_size, {_slice_where("n_", "timestamp")}) AS now_bytes,
    avgIf(transfer_size, {_slice_where("b_", "timestamp")}) AS before_bytes,
    countIf({_slice_where("n_", "timestamp")}), countIf({_slice_where("b_", "timestamp")})
FROM rum_resources
WHERE initiator_type IN ('script', 'link', 'css') AND transfer_size > 0
  AND (({_slice_where("n_", "timestamp")}) OR ({_slice_where("b_", "timestamp")}))
GROUP BY url
"""
        return [
            Contribution(str(r[0]), _finite(r[1]), _finite(r[2]), int(r[3]), int(r[4]))
            for r in self._query(sql, now, before)
        ]

    def long_task_scripts(self, now: Slice, before: Slice) -> list[Contribution]:
        """Blocking milliseconds per page view attributed to each script, on both sides."""
        sql = f"""
SELECT script_url,
    sumIf(blocking_ms / sample_rate, {_slice_where("n_", "timestamp")}) / greatest(views.1, 1),
    sumIf(blocking_ms / sample_rate, {_slice_where("b_", "timestamp")}) / greatest(views.2, 1),
    countIf({_slice_where("n_", "timestamp")}), countIf({_slice_where("b_", "timestamp")})
FROM rum_long_tasks
CROSS JOIN (
    SELECT tuple(sumIf(1 / sample_rate, {_slice_where("n_", "timestamp")}),
                 sumIf(1 / sample_rate, {_slice_where("b_", "timestamp")})) AS views
    FROM rum_page_views
    WHERE ({_slice_where("n_", "timestamp")}) OR ({_slice_where("b_", "timestamp")})
) AS page_views
WHERE script_url != ''
  AND (({_slice_where("n_", "timestamp")}) OR ({_slice_where("b_", "timestamp")}))
GROUP BY script_url, views
"""
        return [
            Contribution(str(r[0]), float(r[1]), float(r[2]), int(r[3]), int(r[4]))
            for r in self._query(sql, now, before)
        ]

    def error_fingerprints(self, now: Slice, before: Slice) -> list[Contribution]:
        """Error weight per fingerprint on both sides; detail is "type: message" (untrusted)."""
        sql = f"""
SELECT fingerprint,
    sumIf(weight, {_slice_where("n_", "minute")}), sumIf(weight, {_slice_where("b_", "minute")}),
    sumIf(samples, {_slice_where("n_", "minute")}), sumIf(samples, {_slice_where("b_", "minute")}),
    concat(any(type), ': ', any(message))
FROM rum_errors_1m
WHERE ({_slice_where("n_", "minute")}) OR ({_slice_where("b_", "minute")})
GROUP BY fingerprint
"""
        return [
            Contribution(str(r[0]), float(r[1]), float(r[2]), int(r[3]), int(r[4]), str(r[5]))
            for r in self._query(sql, now, before)
        ]

    def error_dimensions(self, fingerprint: str, now: Slice) -> list[tuple[str, str, float, float]]:
        """(dimension, value, errors of the fingerprint, page views) in the current slice."""
        sql = f"""
SELECT dim.1, dim.2, sum(errors), sum(views) FROM (
    SELECT route, release, browser, device, country, network,
        weight AS errors, 0 AS views
    FROM rum_errors_1m WHERE fingerprint = {{fingerprint:String}} AND {_slice_where("n_", "minute")}
    UNION ALL
    SELECT route, release, browser, device, country, network, 0, weight
    FROM rum_page_views_1m WHERE {_slice_where("n_", "minute")}
)
ARRAY JOIN [('route', route), ('release', release), ('browser', browser), ('device', device),
            ('country', country), ('network', network)] AS dim
GROUP BY dim.1, dim.2
"""
        parameters = {**_slice_parameters("n_", now), "fingerprint": fingerprint}
        rows = self._reader.query(sql, parameters=parameters).result_rows
        return [(str(r[0]), str(r[1]), float(r[2]), float(r[3])) for r in rows]

    def error_browser_versions(self, fingerprint: str, now: Slice) -> list[tuple[str, float]]:
        """Errors of one fingerprint by "browser major-version", from the facts."""
        sql = f"""
SELECT concat(browser, ' ', splitByChar('.', browser_version)[1]), sum(1 / sample_rate)
FROM rum_errors
WHERE fingerprint = {{fingerprint:String}} AND {_slice_where("n_", "timestamp")}
GROUP BY 1
"""
        parameters = {**_slice_parameters("n_", now), "fingerprint": fingerprint}
        rows = self._reader.query(sql, parameters=parameters).result_rows
        return [(str(r[0]), float(r[1])) for r in rows]

    def route_profile(self, part: Slice, bucket_min: int) -> dict[datetime, dict[str, float]]:
        """p75 of every vital of a route per bucket: the route's multi-metric state over time."""
        sql = f"""
SELECT toStartOfInterval(minute, INTERVAL {{bucket:UInt32}} MINUTE) AS bucket, name,
    quantilesTDigestWeightedMerge(0.75)(value_quantiles)[1]
FROM rum_vitals_1m
WHERE {_slice_where("n_", "minute")}
GROUP BY bucket, name
HAVING sum(samples) >= 5
"""
        parameters = {**_slice_parameters("n_", part), "bucket": bucket_min}
        profile: dict[datetime, dict[str, float]] = {}
        for bucket, name, q75 in self._reader.query(sql, parameters=parameters).result_rows:
            profile.setdefault(bucket, {})[str(name)] = float(q75)
        return profile

    def page_view_counts(
        self, now: datetime, span_min: int, app: str, environment: str
    ) -> list[tuple[datetime, float, float]]:
        """Per-minute (minute, page views, errors) of an app, for dating a change."""
        sql = """
SELECT minute, sum(views), sum(errors) FROM (
    SELECT minute, weight AS views, 0 AS errors FROM rum_page_views_1m
    WHERE app = {app:String} AND environment = {env:String}
      AND minute >= toDateTime({now:DateTime}, 'UTC') - {span:UInt32}
      AND minute + 60 <= toDateTime({now:DateTime}, 'UTC')
    UNION ALL
    SELECT minute, 0, weight FROM rum_errors_1m
    WHERE app = {app:String} AND environment = {env:String}
      AND minute >= toDateTime({now:DateTime}, 'UTC') - {span:UInt32}
      AND minute + 60 <= toDateTime({now:DateTime}, 'UTC')
)
GROUP BY minute ORDER BY minute
"""
        parameters = {
            "app": app,
            "env": environment,
            "now": now.replace(tzinfo=None),
            "span": span_min * 60,
        }
        rows = self._reader.query(sql, parameters=parameters).result_rows
        return [(r[0], float(r[1]), float(r[2])) for r in rows]


def _finite(value: Any) -> float:
    number = float(value)
    return 0.0 if math.isnan(number) else number  # avgIf over no rows is nan


@dataclass(frozen=True)
class Count:
    """Errors of one fingerprint ("" = all) or page views, in one window or period."""

    app: str
    environment: str
    series: str  # fingerprint, ALL_ERRORS or PAGE_VIEWS
    period: str
    samples: int
    weight: float
    first_minute: datetime | None


ALL_ERRORS = "*errors"
PAGE_VIEWS = "*page_views"


def error_counts(
    reader: Any,
    filters: Filters,
    now: datetime,
    windows: Sequence[int],
    lookback_min: int,
    gap_min: int,
    seasonal_days: Sequence[int],
    half_min: int,
) -> list[Count]:
    """Error and page-view counts per current window and baseline period, in one query.

    first_minute is the fingerprint's first minute within the lookback: a fingerprint first
    seen in the current window is a new error.
    """
    window_periods = ", ".join(
        f"if(minute >= now_ - {int(w) * 60}, ['w{int(w)}'], [])" for w in windows
    )
    periods = f"arrayConcat({window_periods}, {_periods_sql(seasonal_days)})"
    sql = (
        _common_with()
        + f"""
SELECT app, environment, series, period, sum(samples), sum(weight), min(minute)
FROM (
    SELECT minute, app, environment, fingerprint AS series, samples, weight FROM rum_errors_1m
    WHERE {_baseline_where(seasonal_days)}{filters.sql()}
    UNION ALL
    SELECT minute, app, environment, '{ALL_ERRORS}', samples, weight FROM rum_errors_1m
    WHERE {_baseline_where(seasonal_days)}{filters.sql()}
    UNION ALL
    SELECT minute, app, environment, '{PAGE_VIEWS}', samples, weight FROM rum_page_views_1m
    WHERE {_baseline_where(seasonal_days)}{filters.sql()}
)
ARRAY JOIN {periods} AS period
GROUP BY app, environment, series, period
"""
    )
    parameters = {
        "now": now.replace(tzinfo=None),
        **filters.parameters(),
        "lookback": lookback_min * 60,
        "gap": gap_min * 60,
        "half": half_min * 60,
    }
    rows = reader.query(sql, parameters=parameters).result_rows
    return [
        Count(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), float(r[5]), r[6])
        for r in rows
    ]
