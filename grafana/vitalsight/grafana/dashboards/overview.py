"""1. Overview: p75 of the five web vitals with their rating shares, traffic, error rate,
slow API share, firing alerts, and AI insight cards as annotations."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_builder

from vitalsight.grafana.dashboards import sql
from vitalsight.grafana.dashboards.datasource import DATASOURCE
from vitalsight.grafana.dashboards.links import drill_link
from vitalsight.grafana.dashboards.panels import (
    alert_list_panel,
    shares_bar_chart,
    stat_panel,
    timeseries_panel,
    vital_thresholds,
)
from vitalsight.grafana.dashboards.query import AnnotationSqlQuery
from vitalsight.grafana.dashboards.scaffold import new_dashboard
from vitalsight.grafana.dashboards.variables import filter_variables

KEY = "overview"
_TIMED_VITALS = ("LCP", "INP", "FCP", "TTFB")  # milliseconds; CLS is unitless


def vital_p75_sql(vital: str) -> str:
    source = sql.rollup_source(sql.VITALS_ROLLUP, where=f"name = '{vital}'")
    return f"SELECT {sql.quantiles()}[{sql.P75}] AS p75\nFROM {source}"


def rating_shares_sql() -> str:
    """Weighted good / needs-improvement / poor shares per vital (they sum to 1)."""
    source = sql.rollup_source(sql.VITALS_ROLLUP, where=f"name IN ({sql.sql_list(sql.VITALS)})")
    return (
        "SELECT name AS vital,\n"
        "    sum(good) / sum(weight) AS good,\n"
        "    sum(needs_improvement) / sum(weight) AS needs_improvement,\n"
        "    sum(poor) / sum(weight) AS poor\n"
        f"FROM {source}\n"
        f"GROUP BY name ORDER BY indexOf([{sql.sql_list(sql.VITALS)}], name)"
    )


def page_views_sql() -> str:
    t = sql.PAGE_VIEWS_1M
    return (
        f"SELECT sum(weight) AS page_views FROM {t.name} WHERE {t.time_filter} AND {sql.filters()}"
    )


def error_rate_sql() -> str:
    """Errors per page view, both weighted (errors are never sampled away, page views may be)."""
    errors, views = sql.ERRORS_1M, sql.PAGE_VIEWS_1M
    return (
        f"SELECT (SELECT sum(weight) FROM {errors.name}"
        f" WHERE {errors.time_filter} AND {sql.filters()})\n"
        f"    / nullIf((SELECT sum(weight) FROM {views.name}"
        f" WHERE {views.time_filter} AND {sql.filters()}), 0) AS errors_per_view"
    )


def slow_api_share_sql() -> str:
    """Weighted requests slower than the threshold (raw requests, or the coarse rollups'
    `slow` count: the per-minute rollup keeps no counts above a threshold)."""
    source = sql.rollup_source(sql.REQUESTS_ROLLUP)
    return f"SELECT sum(slow) / sum(weight) AS slow_share\nFROM {source}"


def vitals_over_time_sql() -> str:
    source = sql.rollup_source(
        sql.VITALS_ROLLUP, where=f"name IN ({sql.sql_list(_TIMED_VITALS)})", series=True
    )
    return (
        f"SELECT time, name, {sql.quantiles()}[{sql.P75}] AS p75\n"
        f"FROM {source}\n"
        "GROUP BY time, name ORDER BY time"
    )


def traffic_over_time_sql() -> str:
    views, errors = sql.PAGE_VIEWS_1M, sql.ERRORS_1M
    return (
        "SELECT time, sum(views) AS page_views, sum(errs) AS errors FROM (\n"
        f"    SELECT {views.time_bucket} AS time, weight AS views, 0 AS errs FROM {views.name}\n"
        f"    WHERE {views.time_filter} AND {sql.filters()}\n"
        "    UNION ALL\n"
        f"    SELECT {errors.time_bucket} AS time, 0 AS views, weight AS errs FROM {errors.name}\n"
        f"    WHERE {errors.time_filter} AND {sql.filters()}\n"
        ") GROUP BY time ORDER BY time"
    )


def open_insights_sql() -> str:
    return (
        "SELECT count() AS open_insights FROM rum_insights FINAL WHERE status = 'open'"
        f" AND {sql.variable_filter('app')} AND {sql.variable_filter('environment')}"
    )


def insight_annotations_sql() -> str:
    """Insight cards open at some point in the range, as region annotations."""
    return (
        "SELECT opened_at AS time, ifNull(resolved_at, opened_at) AS timeEnd,\n"
        "    concat(summary, ' ', dashboard_url) AS text, [kind, metric, status] AS tags\n"
        "FROM rum_insights FINAL\n"
        "WHERE opened_at <= $__toTime AND (resolved_at IS NULL OR resolved_at >= $__fromTime)\n"
        f"    AND {sql.variable_filter('app')} AND {sql.variable_filter('environment')}"
    )


def insight_annotations() -> dashboard_builder.AnnotationQuery:
    return (
        dashboard_builder.AnnotationQuery()
        .name("AI insights")
        .datasource(DATASOURCE)
        .enable(True)
        .icon_color("purple")
        .target(AnnotationSqlQuery(insight_annotations_sql()))
    )


def dashboard() -> dashboard_builder.Dashboard:
    board = new_dashboard(
        KEY,
        "vitalsight · Overview",
        "Web vitals (p75, web.dev ratings), traffic, errors and API health at a glance.",
        filter_variables(),
    ).annotation(insight_annotations())
    for vital in sql.VITALS:
        good, poor = sql.THRESHOLDS[vital]
        board = board.with_panel(
            stat_panel(
                f"p75 {vital}",
                vital_p75_sql(vital),
                unit="none" if vital == "CLS" else "ms",
                thresholds=vital_thresholds(good, poor),
                description=f"Weighted 75th percentile; web.dev: good ≤ {good}, poor > {poor}.",
                links=[
                    drill_link(
                        f"{vital} distribution", "performance_distribution", {"vital": vital}
                    )
                ],
            ).span(4 if vital == sql.VITALS[-1] else 5)  # 5 + 5 + 5 + 5 + 4 = 24
        )
    return (
        board.with_panel(
            shares_bar_chart(
                "Rating shares",
                rating_shares_sql(),
                x_field="vital",
                description="Share of weighted samples rated good / needs improvement / poor.",
            )
        )
        .with_panel(timeseries_panel("p75 over time", vitals_over_time_sql(), unit="ms"))
        .with_panel(
            stat_panel(
                "Page views",
                page_views_sql(),
                unit="short",
                description="Weighted: each kept page view counts 1 / sample rate.",
                links=[drill_link("Routes", "routes")],
            ).span(6)
        )
        .with_panel(
            stat_panel(
                "Errors per page view",
                error_rate_sql(),
                unit="percentunit",
                links=[drill_link("Errors", "errors")],
            ).span(6)
        )
        .with_panel(
            stat_panel(
                "Slow API share",
                slow_api_share_sql(),
                unit="percentunit",
                description=f"Requests slower than {sql.SLOW_REQUEST_MS} ms.",
                links=[drill_link("API performance", "api_performance")],
            ).span(6)
        )
        .with_panel(
            stat_panel(
                "Open AI insights",
                open_insights_sql(),
                unit="short",
                links=[drill_link("AI insights", "ai_insights")],
            ).span(6)
        )
        .with_panel(
            timeseries_panel("Page views and errors", traffic_over_time_sql(), unit="short")
        )
        .with_panel(alert_list_panel("Active alerts"))
    )
