"""2. Routes: every route's p75/p95 LCP and INP, error rate and volume, with the trend
against the previous period of the same length."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_builder

from vitalsight.grafana.dashboards import sql
from vitalsight.grafana.dashboards.links import row_link
from vitalsight.grafana.dashboards.panels import table_panel, timeseries_panel
from vitalsight.grafana.dashboards.scaffold import new_dashboard
from vitalsight.grafana.dashboards.variables import filter_variables

KEY = "routes"
TOP_ROUTES = 10


def routes_sql() -> str:
    errors = sql.ERRORS_1M
    views_now = sql.page_views_source()
    views_before = sql.page_views_source(sql.PREVIOUS_RANGE)
    vitals_now = sql.rollup_source(sql.VITALS_ROLLUP, where="name IN ('LCP', 'INP')", by="route")
    lcp_before = sql.rollup_source(
        sql.VITALS_ROLLUP, where="name = 'LCP'", by="route", window=sql.PREVIOUS_RANGE
    )
    lcp = sql.quantiles("name = 'LCP' AND period = 'now'")
    inp = sql.quantiles("name = 'INP' AND period = 'now'")
    lcp_previous = sql.quantiles("period = 'before'")
    columns = ", ".join(
        f"{sql.no_nan(c)} AS {c}" for c in ("lcp_p75", "lcp_p95", "inp_p75", "inp_p95")
    )
    return (
        "SELECT route, views,\n"
        f"    {columns},\n"
        "    errors / views AS error_rate,\n"
        "    (lcp_p75 - lcp_p75_before) / nullIf(lcp_p75_before, 0) AS lcp_p75_trend,\n"
        "    (views - views_before) / nullIf(views_before, 0) AS views_trend\n"
        "FROM (\n"
        "    SELECT route, sumIf(weight, period = 'now') AS views,"
        " sumIf(weight, period = 'before') AS views_before\n"
        "    FROM (\n"
        f"        SELECT 'now' AS period, * FROM {views_now}\n"
        "        UNION ALL\n"
        f"        SELECT 'before' AS period, * FROM {views_before}\n"
        "    )\n"
        "    GROUP BY route\n"
        ") AS v\n"
        "LEFT JOIN (\n"
        "    SELECT route,\n"
        f"        {lcp}[{sql.P75}] AS lcp_p75, {lcp}[{sql.P95}] AS lcp_p95,\n"
        f"        {inp}[{sql.P75}] AS inp_p75, {inp}[{sql.P95}] AS inp_p95,\n"
        f"        {lcp_previous}[{sql.P75}] AS lcp_p75_before\n"
        "    FROM (\n"
        f"        SELECT 'now' AS period, * FROM {vitals_now}\n"
        "        UNION ALL\n"
        f"        SELECT 'before' AS period, * FROM {lcp_before}\n"
        "    )\n"
        "    GROUP BY route\n"
        ") AS q USING route\n"
        "LEFT JOIN (\n"
        f"    SELECT route, sum(weight) AS errors FROM {errors.name}"
        f" WHERE {errors.time_filter} AND {sql.filters()} GROUP BY route\n"
        ") AS e USING route\n"
        "WHERE views > 0\n"
        "ORDER BY views DESC LIMIT 200"
    )


def route_lcp_over_time_sql() -> str:
    top = sql.Busiest("route", TOP_ROUTES, where="name = 'LCP'", by="route")
    source = sql.rollup_source(
        sql.VITALS_ROLLUP, where="name = 'LCP'", by="route", series=True, top=top
    )
    return (
        f"SELECT time, route, {sql.quantiles()}[{sql.P75}] AS lcp_p75\n"
        f"FROM {source}\n"
        "GROUP BY time, route ORDER BY time"
    )


def dashboard() -> dashboard_builder.Dashboard:
    return (
        new_dashboard(
            KEY,
            "vitalsight · Routes",
            "Per-route web vitals, error rate and traffic, and their trend against the"
            " previous period of the same length.",
            filter_variables(),
        )
        .with_panel(
            table_panel(
                "Routes",
                routes_sql(),
                description="Trends compare with the period of the same length just before"
                " the selected one.",
                units={
                    "views": "short",
                    "lcp_p75": "ms",
                    "lcp_p95": "ms",
                    "inp_p75": "ms",
                    "inp_p95": "ms",
                    "error_rate": "percentunit",
                    "lcp_p75_trend": "percentunit",
                    "views_trend": "percentunit",
                },
                links={
                    "route": [
                        row_link(
                            "Distribution of this route", "performance_distribution", route="route"
                        ),
                        row_link("Errors on this route", "errors", route="route"),
                        row_link("Sessions on this route", "sessions", route="route"),
                    ],
                    "error_rate": [row_link("Errors on this route", "errors", route="route")],
                },
                height=14,
            )
        )
        .with_panel(
            timeseries_panel(
                f"p75 LCP of the {TOP_ROUTES} busiest routes", route_lcp_over_time_sql(), unit="ms"
            ).span(24)
        )
    )
