"""4. Errors: grouped by fingerprint with first/last seen, impacted sessions, routes,
releases and browsers; a fingerprint's occurrences with their stacks, each linked to its
session and trace."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_builder

from vitalsight.grafana.dashboards import sql
from vitalsight.grafana.dashboards.links import row_link
from vitalsight.grafana.dashboards.panels import table_panel, timeseries_panel
from vitalsight.grafana.dashboards.scaffold import new_dashboard
from vitalsight.grafana.dashboards.variables import filter_variables, text_variable

KEY = "errors"
FINGERPRINT = "${fingerprint:singlequote}"
_SELECTED = f"({FINGERPRINT} = '' OR fingerprint = {FINGERPRINT})"


def _top(column: str) -> str:
    """The three values with the most (weighted) occurrences, as text."""
    return f"arrayStringConcat(topKWeighted(3)({column}, toUInt64(ceil(weight))), ', ')"


def error_groups_sql() -> str:
    """Rollup per fingerprint; first seen looks at all retained data, not only the range,
    so a new error stands out."""
    t = sql.ERRORS_1M
    return (
        "SELECT fingerprint, type, message, occurrences, impacted_sessions,\n"
        "    first_seen, last_seen, routes, releases, browsers\n"
        "FROM (\n"
        "    SELECT fingerprint, any(type) AS type, any(message) AS message,\n"
        "        sum(weight) AS occurrences, uniqMerge(sessions) AS impacted_sessions,\n"
        "        max(minute) AS last_seen,\n"
        f"        {_top('route')} AS routes, {_top('release')} AS releases,"
        f" {_top('browser')} AS browsers\n"
        f"    FROM {t.name} WHERE {t.time_filter} AND {sql.filters()}\n"
        "    GROUP BY fingerprint\n"
        ") AS g\n"
        "LEFT JOIN (\n"
        f"    SELECT fingerprint, min(minute) AS first_seen FROM {t.name}\n"
        f"    WHERE {sql.variable_filter('app')} AND {sql.variable_filter('environment')}"
        " GROUP BY fingerprint\n"
        ") AS f USING fingerprint\n"
        "ORDER BY occurrences DESC LIMIT 100"
    )


def errors_over_time_sql() -> str:
    t = sql.ERRORS_1M
    return (
        f"SELECT {t.time_bucket} AS time, type, sum(weight) AS errors\n"
        f"FROM {t.name} WHERE {t.time_filter} AND {_SELECTED} AND {sql.filters()}\n"
        "GROUP BY time, type ORDER BY time"
    )


def occurrences_sql() -> str:
    """Raw rows: the stack, session and trace live only there."""
    t = sql.ERRORS_RAW
    return (
        "SELECT timestamp, type, message, route, release, browser, device, session_id,"
        " trace_id, fingerprint, stack\n"
        f"FROM {t.name} WHERE {t.time_filter} AND {_SELECTED} AND {sql.filters()}\n"
        "ORDER BY timestamp DESC LIMIT 100"
    )


def dashboard() -> dashboard_builder.Dashboard:
    to_session = row_link(
        "Session timeline", "sessions", session_id="session_id", trace_id="trace_id"
    )
    return (
        new_dashboard(
            KEY,
            "vitalsight · Errors",
            "JavaScript errors by fingerprint; pick one to see its stacks, sessions and traces.",
            [*filter_variables(), text_variable("fingerprint", "Fingerprint")],
        )
        .with_panel(
            table_panel(
                "Errors by fingerprint",
                error_groups_sql(),
                units={"occurrences": "short", "impacted_sessions": "short"},
                links={
                    "fingerprint": [
                        row_link("Occurrences and stacks", "errors", fingerprint="fingerprint")
                    ],
                    "message": [
                        row_link("Occurrences and stacks", "errors", fingerprint="fingerprint")
                    ],
                },
                height=12,
            )
        )
        .with_panel(
            timeseries_panel(
                "Errors over time by type", errors_over_time_sql(), unit="short", stacked=True
            ).span(24)
        )
        .with_panel(
            table_panel(
                "Occurrences (selected fingerprint, or all)",
                occurrences_sql(),
                links={
                    "session_id": [to_session],
                    "trace_id": [to_session],
                    "route": [row_link("Route details", "routes", route="route")],
                },
                height=12,
            )
        )
    )
