"""SQL fragments every dashboard shares: the filter variables' conditions, the tables a
panel reads (rollup or raw, chosen per panel and visible in its query), weighted counts and
quantile merges.

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


def quantiles_merge(state_column: str, condition: str | None = None) -> str:
    """Merge the rollups' t-digest states; index the result with P50…P99."""
    if condition is None:
        return f"quantilesTDigestWeightedMerge({QUANTILE_LEVELS})({state_column})"
    return f"quantilesTDigestWeightedMergeIf({QUANTILE_LEVELS})({state_column}, {condition})"


def quantiles_raw(value_column: str, condition: str | None = None) -> str:
    """The same quantiles from raw facts, weighted like the rollups."""
    weight = "toUInt32(round(1 / sample_rate))"
    if condition is None:
        return f"quantilesTDigestWeighted({QUANTILE_LEVELS})({value_column}, {weight})"
    return f"quantilesTDigestWeightedIf({QUANTILE_LEVELS})({value_column}, {weight}, {condition})"


def no_nan(expression: str) -> str:
    """NULL (an empty cell) instead of the NaN a quantile of no rows gives."""
    return f"if(isNaN({expression}), NULL, {expression})"


def previous_period_filter(column: str) -> str:
    """The range of the same length just before the dashboard's (for trends)."""
    return f"{column} >= $__fromTime - ($__toTime - $__fromTime) AND {column} < $__fromTime"


def sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)
