"""5. API performance: the slowest endpoints (URL templates), p95 latency over time, status
codes over time, and which routes each endpoint slows down."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_builder

from vitalsight.grafana.dashboards import sql
from vitalsight.grafana.dashboards.links import row_link
from vitalsight.grafana.dashboards.panels import heatmap_panel, table_panel, timeseries_panel
from vitalsight.grafana.dashboards.scaffold import new_dashboard
from vitalsight.grafana.dashboards.variables import filter_variables, text_variable

KEY = "api_performance"
TOP_ENDPOINTS = 5
ENDPOINT = "${endpoint:singlequote}"
_SELECTED = f"({ENDPOINT} = '' OR url_template = {ENDPOINT})"

# Status classes as heatmap rows; 0 is a request that never got an answer.
_STATUS_CLASSES = ("failed", "2xx", "3xx", "4xx", "5xx")  # measures status_<class>


def endpoints_sql() -> str:
    source = sql.rollup_source(sql.REQUESTS_ROLLUP)
    return (
        "SELECT method, url_template, requests,\n"
        f"    q[{sql.P50}] AS p50, q[{sql.P95}] AS p95, q[{sql.P99}] AS p99,\n"
        "    errors / requests AS error_share\n"
        "FROM (\n"
        "    SELECT method, url_template, sum(weight) AS requests, sum(errors) AS errors,\n"
        f"        {sql.quantiles()} AS q\n"
        f"    FROM {source}\n"
        "    GROUP BY method, url_template\n"
        ") ORDER BY p95 DESC LIMIT 50"
    )


def p95_over_time_sql() -> str:
    """The selected endpoint (URL template), or the busiest few, each method a series."""
    # ranked by URL template (what $endpoint selects), each of its methods a series: a
    # (method, url_template) tuple IN a set cost more per row than the whole rest of the panel
    top = sql.Busiest("url_template", TOP_ENDPOINTS, where=_SELECTED)
    source = sql.rollup_source(sql.REQUESTS_ROLLUP, where=_SELECTED, series=True, top=top)
    return (
        "SELECT time, concat(method, ' ', url_template) AS endpoint,\n"
        f"    {sql.quantiles()}[{sql.P95}] AS p95\n"
        f"FROM {source}\n"
        "GROUP BY time, endpoint ORDER BY time"
    )


def status_codes_sql() -> str:
    """Weighted requests per status class (raw requests, or the coarse rollups' counts;
    the per-minute rollup has no status column). One column per status class."""
    source = sql.rollup_source(sql.REQUESTS_ROLLUP, where=_SELECTED, series=True)
    classes = ", ".join(f"sum(status_{name}) AS `{name}`" for name in _STATUS_CLASSES)
    return f"SELECT time, {classes}\nFROM {source}\nGROUP BY time ORDER BY time"


def routes_slowed_sql() -> str:
    """Per endpoint and route: calls per page view and the estimated wait they add to a
    page view (calls per view * median latency), largest first."""
    views = sql.page_views_source()
    source = sql.rollup_source(sql.REQUESTS_ROLLUP, where=_SELECTED, by="route")
    return (
        "SELECT method, url_template, route, requests, p95,\n"
        "    requests / nullIf(page_views, 0) AS calls_per_view,\n"
        "    calls_per_view * p50 AS wait_per_view_ms\n"
        "FROM (\n"
        "    SELECT method, url_template, route, sum(weight) AS requests,\n"
        f"        {sql.quantiles()}[{sql.P50}] AS p50,\n"
        f"        {sql.quantiles()}[{sql.P95}] AS p95\n"
        f"    FROM {source}\n"
        "    GROUP BY method, url_template, route\n"
        ") AS r\n"
        "LEFT JOIN (\n"
        f"    SELECT route, sum(weight) AS page_views FROM {views} GROUP BY route\n"
        ") AS v USING route\n"
        "ORDER BY wait_per_view_ms DESC LIMIT 50"
    )


def dashboard() -> dashboard_builder.Dashboard:
    select_endpoint = row_link("Focus on this endpoint", "api_performance", endpoint="url_template")
    return (
        new_dashboard(
            KEY,
            "vitalsight · API performance",
            "fetch/XHR requests by URL template: latency, status codes and the pages they slow.",
            [*filter_variables(), text_variable("endpoint", "Endpoint (URL template)")],
        )
        .with_panel(
            table_panel(
                "Slowest endpoints",
                endpoints_sql(),
                units={
                    "requests": "short",
                    "p50": "ms",
                    "p95": "ms",
                    "p99": "ms",
                    "error_share": "percentunit",
                },
                links={"url_template": [select_endpoint]},
                height=10,
            )
        )
        .with_panel(
            timeseries_panel(
                f"p95 latency (selected endpoint or the {TOP_ENDPOINTS} busiest)",
                p95_over_time_sql(),
                unit="ms",
            )
        )
        .with_panel(heatmap_panel("Status codes over time", status_codes_sql(), unit="short"))
        .with_panel(
            table_panel(
                "Routes each endpoint slows",
                routes_slowed_sql(),
                description="wait_per_view_ms ≈ calls per page view * median latency.",
                units={"requests": "short", "p95": "ms", "wait_per_view_ms": "ms"},
                links={
                    "route": [row_link("Route details", "routes", route="route")],
                    "url_template": [select_endpoint],
                },
                height=10,
            )
        )
    )
