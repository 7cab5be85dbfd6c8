"""The SQL behind `vitalsight report`, on the per-minute rollups only.

Each function returns one ClickHouse statement as text, with the filters already inlined as
quoted literals, so the same statement runs through clickhouse-connect (the reader path), a
ClickHouse server or a chDB store in a test. Quantiles merge the rollups' weighted t-digest
states; counts are weighted by `1 / sample_rate` (the rollups' `weight`).
"""

from __future__ import annotations

from dataclasses import dataclass

QUANTILES = "0.5, 0.75, 0.95, 0.99"  # the levels the rollups' states were built with


@dataclass(frozen=True)
class Filters:
    """What every report query selects: a window of whole minutes, optionally one app or
    environment."""

    since_minutes: int
    app: str | None = None
    environment: str | None = None

    def __post_init__(self) -> None:
        if self.since_minutes <= 0:
            raise ValueError(f"since_minutes must be > 0, got {self.since_minutes}")

    def where(self) -> str:
        clauses = [f"minute >= toStartOfMinute(now() - INTERVAL {int(self.since_minutes)} MINUTE)"]
        if self.app is not None:
            clauses.append(f"app = {quote(self.app)}")
        if self.environment is not None:
            clauses.append(f"environment = {quote(self.environment)}")
        return " AND ".join(clauses)


def quote(value: str) -> str:
    """A ClickHouse string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def vitals_sql(filters: Filters, *, by_release: bool) -> str:
    """Per app, route (and release), per vital: samples, weight, good/poor shares and the
    weighted p50/p75/p95/p99.

    Columns: app, route, release ('' unless by_release), name, samples, weight, good, poor,
    quantiles (array of 4).
    """
    release = "release" if by_release else "''"
    return f"""
SELECT
    app,
    route,
    {release} AS rel,
    name,
    sum(samples) AS samples,
    sum(weight) AS w,
    sum(good) AS good,
    sum(poor) AS poor,
    quantilesTDigestWeightedMerge({QUANTILES})(value_quantiles) AS q
FROM rum_vitals_1m
WHERE {filters.where()}
GROUP BY app, route, rel, name
ORDER BY app, route, rel, name
""".strip()


def route_errors_sql(filters: Filters) -> str:
    """Per app and route: weighted page views, weighted errors, sessions and sessions with
    an error (uniq states merged).

    Columns: app, route, views, errors, sessions, error_sessions.
    """
    where = filters.where()
    return f"""
SELECT
    app,
    route,
    sum(pv_weight) AS views,
    sum(error_weight) AS errors,
    max(pv_sessions) AS sessions,
    max(error_sessions) AS sessions_with_error
FROM (
    SELECT app, route, sum(weight) AS pv_weight, 0 AS error_weight,
           uniqMerge(sessions) AS pv_sessions, 0 AS error_sessions
    FROM rum_page_views_1m WHERE {where} GROUP BY app, route
    UNION ALL
    SELECT app, route, 0 AS pv_weight, sum(weight) AS error_weight,
           0 AS pv_sessions, uniqMerge(sessions) AS error_sessions
    FROM rum_errors_1m WHERE {where} GROUP BY app, route
)
GROUP BY app, route
ORDER BY app, route
""".strip()


def views_by_release_sql(filters: Filters) -> str:
    """Weighted page views per app and release (to normalise error counts per release).

    Columns: app, release, views.
    """
    return f"""
SELECT app, release, sum(weight) AS views
FROM rum_page_views_1m
WHERE {filters.where()}
GROUP BY app, release
ORDER BY app, release
""".strip()


def errors_by_release_sql(filters: Filters) -> str:
    """Weighted errors per app, fingerprint and release, with a sample message and the
    sessions affected.

    Columns: app, fingerprint, type, message, release, errors, sessions.
    """
    return f"""
SELECT
    app,
    fingerprint,
    type,
    any(message) AS msg,
    release,
    sum(weight) AS errors,
    uniqMerge(sessions) AS affected
FROM rum_errors_1m
WHERE {filters.where()}
GROUP BY app, fingerprint, type, release
ORDER BY app, errors DESC, fingerprint, release
""".strip()


def endpoints_sql(filters: Filters, *, limit: int) -> str:
    """The slowest API endpoints by weighted p95 duration, with their error share (status
    ≥ 500 or 0).

    Columns: app, method, url_template, samples, requests, errors, quantiles (array of 4).
    """
    return f"""
SELECT
    app,
    method,
    url_template,
    sum(samples) AS samples,
    sum(weight) AS requests,
    sum(errors) AS errs,
    quantilesTDigestWeightedMerge({QUANTILES})(duration_quantiles) AS q
FROM rum_requests_1m
WHERE {filters.where()}
GROUP BY app, method, url_template
ORDER BY q[3] DESC, app, method, url_template
LIMIT {int(limit)}
""".strip()
