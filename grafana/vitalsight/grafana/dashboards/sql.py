"""SQL fragments every dashboard shares: the filter variables' conditions, the tables a
panel reads (rollup or raw, chosen per panel and visible in its query), weighted counts and
quantile merges.

Vitals and requests are read through `rollup_source`, a subquery that picks its rows in SQL
(Grafana macros cannot branch): raw facts for ranges up to 2 days or when a filter the
coarse rollups lack is set, else hourly rollup rows, and daily ones for the whole days inside
the range. Raw facts are kept for less time than the rollups (`retention`), so the part of a
raw-fact read older than the oldest raw fact comes from the per-minute rollups. The coarse
rollups are histograms as rows (a 2% log bucket per row), so every branch yields plain
(value, weight) rows and `quantiles` is one weighted t-digest over them: no quantile states
are merged on ranges raw facts still hold, which is what made long ranges slow.

Counts are weighted: a sampled row stands for 1 / sample_rate rows (the rollups' `weight`
column holds that sum), so panels show estimates of real traffic, not of what was kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FILTER_VARIABLES = (
    "app",
    "environment",
    "release",
    "route",
    "browser",
    "device",
    "country",
    "network",
)
"""Dashboard variables that filter every panel; each is a column of every fact and rollup."""

VITALS = ("LCP", "INP", "CLS", "TTFB", "FCP")

# web.dev thresholds (good ≤ first, poor > second): https://web.dev/articles/vitals
THRESHOLDS: dict[str, tuple[float, float]] = {
    "LCP": (2500, 4000),
    "INP": (200, 500),
    "CLS": (0.1, 0.25),
    "TTFB": (800, 1800),
    "FCP": (1800, 3000),
}

SLOW_REQUEST_MS = 1000
"""A request slower than this counts towards the overview's slow-API share."""


@dataclass(frozen=True)
class Table:
    """A table a panel reads and the column its time filter applies to."""

    name: str
    time_column: str

    @property
    def time_filter(self) -> str:
        return f"$__timeFilter({self.time_column})"

    @property
    def time_bucket(self) -> str:
        return f"$__timeInterval({self.time_column})"


# Per-minute rollups: what long ranges read (quantile states, Σ weight).
VITALS_1M = Table("rum_vitals_1m", "minute")
PAGE_VIEWS_1M = Table("rum_page_views_1m", "minute")
REQUESTS_1M = Table("rum_requests_1m", "minute")
ERRORS_1M = Table("rum_errors_1m", "minute")

# Hourly and daily rollups (0005_rum_coarse_rollups.sql): read through `rollup_source`.
RESOURCES_1H = Table("rum_resources_1h", "hour")
# Hourly page views by route (0007_rum_page_views_1h.sql): read through `page_views_source`.
PAGE_VIEWS_1H = Table("rum_page_views_1h", "hour")

# Raw facts: only where a rollup lacks the column (status codes, stacks, sessions, sizes).
VITALS_RAW = Table("rum_vitals", "timestamp")
PAGE_VIEWS_RAW = Table("rum_page_views", "timestamp")
REQUESTS_RAW = Table("rum_requests", "timestamp")
ERRORS_RAW = Table("rum_errors", "timestamp")
RESOURCES_RAW = Table("rum_resources", "timestamp")

RAW_WEIGHT = "sum(1 / sample_rate)"
"""The weighted count of raw fact rows (the rollups' `sum(weight)`)."""

QUANTILE_LEVELS = "0.5, 0.75, 0.95, 0.99"
P50, P75, P95, P99 = 1, 2, 3, 4  # 1-based indexes into the merged quantiles array


def variable_filter(name: str, column: str | None = None) -> str:
    """`column IN (selection)`, or `1=1` when "All" is selected ($__conditionalAll)."""
    return f"$__conditionalAll({column or name} IN (${{{name}:singlequote}}), ${name})"


def filters(*, exclude: Iterable[str] = (), prefix: str = "") -> str:
    """The filter variables' conditions joined with AND; `prefix` qualifies the columns."""
    skipped = set(exclude)
    return " AND ".join(
        variable_filter(name, f"{prefix}{name}") for name in FILTER_VARIABLES if name not in skipped
    )


def quantiles(condition: str | None = None) -> str:
    """Weighted quantiles of a `rollup_source`'s `value` (a raw value, or a rollup bucket's
    centre) by `weight`; index the result with P50…P99."""
    weight = "toUInt32(round(weight))"
    if condition is None:
        return f"quantilesTDigestWeighted({QUANTILE_LEVELS})(value, {weight})"
    return f"quantilesTDigestWeightedIf({QUANTILE_LEVELS})(value, {weight}, {condition})"


def quantiles_raw(value_column: str, condition: str | None = None) -> str:
    """The same quantiles from raw facts, weighted like the rollups."""
    weight = "toUInt32(round(1 / sample_rate))"
    if condition is None:
        return f"quantilesTDigestWeighted({QUANTILE_LEVELS})({value_column}, {weight})"
    return f"quantilesTDigestWeightedIf({QUANTILE_LEVELS})({value_column}, {weight}, {condition})"


COARSE_AFTER_S = 2 * 86_400
"""Ranges longer than this may read the hourly and daily rollups: an hour is then under 2%
of the range, and the per-minute rollups answer shorter ranges fast enough."""

COARSE_BUCKET_S = 3600
"""The finest time bucket a series gets from the hourly rollups."""


@dataclass(frozen=True)
class Window:
    """A time window for a rollup's time column: `column >= lower AND column <op> upper`."""

    lower: str
    upper: str
    upper_op: str = "<="

    def holds(self, column: str) -> str:
        if self == RANGE:
            return f"$__timeFilter({column})"
        return f"{column} >= {self.lower} AND {column} {self.upper_op} {self.upper}"

    def covers_day(self, day: str) -> str:
        """Every hour of the day starting at `day` lies in the window."""
        return f"{day} >= {self.lower} AND {day} + INTERVAL 23 HOUR {self.upper_op} {self.upper}"


RANGE = Window("$__fromTime", "$__toTime")
"""The dashboard's time range ($__timeFilter)."""

PREVIOUS_RANGE = Window("$__fromTime - ($__toTime - $__fromTime)", "$__fromTime", "<")
"""The range of the same length just before the dashboard's (for trends)."""


BUCKET_BASE = 1.02
"""The rollups' histogram buckets are 2% wide: `bucket` = round(log_1.02(value))."""

BUCKET_VALUE = f"if(bucket = -32768, 0, pow({BUCKET_BASE}, bucket))"
"""A bucket's centre; -32768 holds values <= 0 (a CLS of 0)."""

SERIES_VALUE = "if(weight > 0, value_sum / weight, 0)"
"""A series rollup row's value: the weighted mean of the values in its 5%-wide bucket."""


@dataclass(frozen=True)
class Rollup:
    """A fact's coarse rollups, hourly and daily, keyed by `columns` with `grouping_sets` as
    (`dimension`, `dimension_value`) rows and a histogram bucket of `value`, and the raw
    expressions of their measures (what one fact row adds). `minute` is the per-minute
    rollup (every filter dimension, every measure as a column, the values as the t-digest
    state `minute_state`), which holds what raw-fact retention dropped. `series_hour` is the
    hourly rollup series read (5% buckets, `value_sum`), `totals` the daily weighted counts
    per key without buckets (for ranking by traffic); 0008_rum_series_and_totals.sql."""

    facts: Table
    hour: str
    day: str
    value: str
    columns: tuple[str, ...]
    grouping_sets: tuple[str, ...]
    measures: tuple[tuple[str, str], ...]
    minute: Table
    minute_state: str
    series_hour: str
    totals: str

    @property
    def lacking(self) -> tuple[str, ...]:
        """The filter variables the hourly and daily rollups have no column for."""
        return tuple(name for name in FILTER_VARIABLES if name not in self.columns)


_ROW_WEIGHT = "1 / sample_rate"


def _weighted(condition: str) -> str:
    return f"if({condition}, {_ROW_WEIGHT}, 0)"


VITALS_ROLLUP = Rollup(
    VITALS_RAW,
    "rum_vitals_1h",
    "rum_vitals_1d",
    value="value",
    columns=("app", "environment", "release", "name"),
    grouping_sets=("route", "device", "country"),
    measures=(
        ("samples", "toUInt64(1)"),
        ("weight", _ROW_WEIGHT),
        ("good", _weighted("rating = 'good'")),
        ("needs_improvement", _weighted("rating = 'needs-improvement'")),
        ("poor", _weighted("rating = 'poor'")),
    ),
    minute=VITALS_1M,
    minute_state="value_quantiles",
    series_hour="rum_vitals_series_1h",
    totals="rum_vitals_totals_1d",
)
REQUESTS_ROLLUP = Rollup(
    REQUESTS_RAW,
    "rum_requests_1h",
    "rum_requests_1d",
    value="duration_ms",
    columns=("app", "environment", "release", "url_template", "method"),
    grouping_sets=("route",),
    measures=(
        ("samples", "toUInt64(1)"),
        ("weight", _ROW_WEIGHT),
        ("errors", _weighted("status >= 500 OR status = 0")),
        ("slow", _weighted(f"duration_ms > {SLOW_REQUEST_MS}")),  # as the rollup's MV
        ("status_failed", _weighted("status = 0")),
        ("status_2xx", _weighted("status BETWEEN 200 AND 299")),
        ("status_3xx", _weighted("status BETWEEN 300 AND 399")),
        ("status_4xx", _weighted("status BETWEEN 400 AND 499")),
        ("status_5xx", _weighted("status >= 500")),
    ),
    minute=REQUESTS_1M,
    minute_state="duration_quantiles",
    series_hour="rum_requests_series_1h",
    totals="rum_requests_totals_1d",
)


def coarse_condition(lacking: Iterable[str], exclude: Iterable[str] = ()) -> str:
    """True (a constant) when the range is long and every filter in `lacking` is on "All"
    (`$__conditionalAll(0, $v)` is `1=1` only then): the coarse rollups can answer."""
    skipped = set(exclude)
    alls = [f"$__conditionalAll(0, ${name})" for name in lacking if name not in skipped]
    return " AND ".join([f"($__toTime - $__fromTime > {COARSE_AFTER_S})", *alls])


MINUTE_POINTS = "0.1, 0.3, 0.5, 0.7, 0.9"
"""A per-minute rollup row's values, as rows: its t-digest state's quantiles at these levels,
each with an equal share of the row's weight and measures."""

_MINUTE_PICKS = (
    "multiIf(samples <= 1, [3], samples = 2, [2, 4], samples = 3, [1, 3, 5],"
    " samples = 4, [1, 2, 4, 5], [1, 2, 3, 4, 5])"
)
"""Which of the MINUTE_POINTS stand for a row of n samples (n of them, at most 5): a row of
one value gives that value once, with its weight; so each point weighs at least 1."""


def raw_boundary(facts: Table) -> str:
    """The minute of the oldest raw fact, as a scalar subquery: ClickHouse answers it from
    the parts' min/max index (no rows read) and folds it into a constant. Raw facts hold
    every row from that minute on (retention drops the oldest days first); the per-minute
    rollups hold the minutes before. `now()` when there are no raw facts."""
    column = facts.time_column
    return f"(SELECT toStartOfMinute(if(count() = 0, now(), min({column}))) FROM {facts.name})"


def rollup_source(
    rollup: Rollup,
    *,
    where: str = "1",
    by: str | None = None,
    series: bool = False,
    window: Window = RANGE,
    exclude: Iterable[str] = (),
    top: Busiest | None = None,
) -> str:
    """A parenthesised subquery of the fact's rows in `window` matching `where` (and `top`,
    see `busiest`), with columns `time` (the series bucket, when `series`), the rollup's
    columns, `by` (a grouping set of the rollups, e.g. route), `value` (for `quantiles`)
    and the measures.
    Either the fine branches read rows — raw facts from the oldest raw fact on, and the
    per-minute rollup (its states' quantiles as value rows) before it, when the window
    reaches past raw retention — or (long range, lacking filters on "All") the coarse
    ones: hourly rollup rows (of the series rollup when `series`: 5% buckets, each read as
    the mean of its values), with daily rows for the whole days in the window unless
    `series`. `exclude` leaves filters out, as in `filters`; `where` may use `by` but no
    other dimension of the raw facts."""
    skipped = set(exclude)
    if by is not None and by not in rollup.grouping_sets:
        raise ValueError(f"{rollup.hour} has no grouping set {by!r}")
    fine_where = coarse_where = where
    if top is not None:
        fine_where += f" AND {busiest(rollup, top, coarse_part=False)}"
        coarse_where += f" AND {busiest(rollup, top, coarse_part=True)}"
    coarse = coarse_condition(rollup.lacking, skipped)
    coarse_filters = " AND ".join(
        variable_filter(name)
        for name in FILTER_VARIABLES
        if name in rollup.columns and name not in skipped
    )

    def select(table: str, time_column: str, raw: bool) -> str:
        columns = []
        if series:
            bucket = (
                f"$__timeInterval({time_column})"
                if raw
                else f"toStartOfInterval({time_column},"
                f" INTERVAL greatest($__interval_s, {COARSE_BUCKET_S}) second)"
            )
            columns.append(f"{bucket} AS time")
        columns += rollup.columns
        if by is not None:
            columns.append(by if raw else f"dimension_value AS {by}")
        if raw:
            columns.append(rollup.value if rollup.value == "value" else f"{rollup.value} AS value")
            columns += [f"{expression} AS {name}" for name, expression in rollup.measures]
        else:
            columns.append(f"{SERIES_VALUE if series else BUCKET_VALUE} AS value")
            columns += [name for name, _ in rollup.measures]
        return f"SELECT {', '.join(columns)} FROM {table}"

    def minute_select() -> str:
        minute = rollup.minute
        columns = [f"$__timeInterval({minute.time_column}) AS time"] if series else []
        columns += rollup.columns
        if by is not None:
            columns.append(by)
        columns.append("points[pick] AS value")
        columns += [
            "if(pick = picks[1], samples, 0) AS samples"
            if name == "samples"
            else f"{name} / length(picks) AS {name}"
            for name, _ in rollup.measures
        ]
        merge = f"quantilesTDigestWeightedMerge({MINUTE_POINTS})"
        points = f"arrayReduce('{merge}', [{rollup.minute_state}])"
        return (
            f"SELECT {', '.join(columns)} FROM (\n"
            f"        SELECT *, {points} AS points, {_MINUTE_PICKS} AS picks FROM {minute.name}\n"
            f"        WHERE NOT ({coarse}) AND {window.lower} < {boundary}"
            f" AND {window.holds(minute.time_column)} AND {minute.time_column} < {boundary}"
            f" AND {fine_where} AND {filters(exclude=skipped)}\n"
            "    ) ARRAY JOIN picks AS pick"
        )

    raw = rollup.facts
    boundary = raw_boundary(raw)
    dimension = f"dimension = '{by or ''}'"
    branches = [
        f"{select(raw.name, raw.time_column, True)}\n"
        f"    WHERE NOT ({coarse}) AND {window.holds(raw.time_column)}"
        f" AND {raw.time_column} >= {boundary} AND {fine_where} AND {filters(exclude=skipped)}",
        minute_select(),
    ]
    hours = window.holds("hour")
    if not series:
        hours += f" AND NOT ({window.covers_day('toStartOfDay(hour)')})"
    branches.append(
        f"{select(rollup.series_hour if series else rollup.hour, 'hour', False)}\n"
        f"    WHERE {coarse} AND {dimension} AND {hours} AND {coarse_where} AND {coarse_filters}"
    )
    if not series:
        branches.append(
            f"{select(rollup.day, 'day', False)}\n"
            f"    WHERE {coarse} AND {dimension} AND {window.covers_day('day')} AND {coarse_where}"
            f" AND {coarse_filters}"
        )
    return "(\n    " + "\n    UNION ALL\n    ".join(branches) + "\n)"


@dataclass(frozen=True)
class Busiest:
    """Keep the rows whose `key` (a column of the rollup, or its grouping set `by`) is one
    of the `top` values with the most weight in the range among rows matching `where`."""

    key: str
    top: int
    where: str = "1"
    by: str | None = None


def busiest(rollup: Rollup, ranked: Busiest, *, coarse_part: bool) -> str:
    """`ranked` as a condition for one kind of `rollup_source` branch: for the fine branches,
    ranked from raw facts (and the per-minute rollup past raw retention); for the coarse
    ones, from the daily totals of the days the range overlaps (a few thousand rows, where a
    month of histogram rows would be millions). Each branch gets the ranking of its own kind
    under its own constant condition, so the branch ClickHouse does not read does not rank
    either."""
    coarse = coarse_condition(rollup.lacking)
    where, by = ranked.where, ranked.by
    if coarse_part:
        coarse_filters = " AND ".join(
            variable_filter(name) for name in FILTER_VARIABLES if name in rollup.columns
        )
        columns = ", ".join([*rollup.columns, *([f"dimension_value AS {by}"] if by else [])])
        source = (
            f"SELECT {columns}, weight FROM {rollup.totals}\n"
            f"        WHERE {coarse} AND dimension = '{by or ''}'"
            " AND day >= toStartOfDay($__fromTime) AND day <= $__toTime"
            f" AND {where} AND {coarse_filters}"
        )
    else:
        columns = ", ".join([*rollup.columns, *([by] if by else [])])
        raw, minute = rollup.facts, rollup.minute
        boundary = raw_boundary(raw)
        source = (
            f"SELECT {columns}, 1 / sample_rate AS weight FROM {raw.name}\n"
            f"        WHERE NOT ({coarse}) AND {RANGE.holds(raw.time_column)}"
            f" AND {raw.time_column} >= {boundary} AND {where} AND {filters()}\n"
            "        UNION ALL\n"
            f"        SELECT {columns}, weight FROM {minute.name}\n"
            f"        WHERE NOT ({coarse}) AND $__fromTime < {boundary}"
            f" AND {RANGE.holds(minute.time_column)} AND {minute.time_column} < {boundary}"
            f" AND {where} AND {filters()}"
        )
    key = ranked.key
    return (
        f"{key} IN (\n    SELECT {key} FROM (\n        {source}\n    )"
        f" GROUP BY {key} ORDER BY round(sum(weight), 3) DESC, {key} LIMIT {ranked.top}\n)"
    )


PAGE_VIEWS_1H_COLUMNS = ("app", "environment", "release", "route")


def page_views_source(window: Window = RANGE) -> str:
    """A parenthesised subquery of page views in `window` with columns `route` and `weight`:
    the hourly rollup by route (hours starting in the window) when the range is longer than
    2 days and the filters it lacks (browser, device, country, network) are on "All", else
    the per-minute rollup; one branch reads rows, as in `rollup_source`."""
    lacking = tuple(name for name in FILTER_VARIABLES if name not in PAGE_VIEWS_1H_COLUMNS)
    coarse = coarse_condition(lacking)
    minute, hour = PAGE_VIEWS_1M, PAGE_VIEWS_1H
    return (
        f"(\n    SELECT route, weight FROM {minute.name}\n"
        f"    WHERE NOT ({coarse}) AND {window.holds(minute.time_column)} AND {filters()}\n"
        "    UNION ALL\n"
        f"    SELECT route, weight FROM {hour.name}\n"
        f"    WHERE {coarse} AND {window.holds(hour.time_column)}"
        f" AND {filters(exclude=lacking)}\n)"
    )


def no_nan(expression: str) -> str:
    """NULL (an empty cell) instead of the NaN a quantile of no rows gives."""
    return f"if(isNaN({expression}), NULL, {expression})"


def previous_period_filter(column: str) -> str:
    """The range of the same length just before the dashboard's (for trends)."""
    return f"{column} >= $__fromTime - ($__toTime - $__fromTime) AND {column} < $__fromTime"


def sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)
