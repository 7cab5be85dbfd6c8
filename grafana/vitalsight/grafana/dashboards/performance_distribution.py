"""6. Performance distribution: percentile bands of a vital over time, rating shares over
time, and heatmaps of p75 LCP and INP by device and by country."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_builder

from vitalsight.grafana.dashboards import sql
from vitalsight.grafana.dashboards.panels import heatmap_panel, timeseries_panel
from vitalsight.grafana.dashboards.scaffold import new_dashboard
from vitalsight.grafana.dashboards.variables import custom_variable, filter_variables

KEY = "performance_distribution"
TOP_COUNTRIES = 10
VITAL = "${vital:singlequote}"


def percentile_bands_sql() -> str:
    source = sql.rollup_source(sql.VITALS_ROLLUP, where=f"name = {VITAL}", series=True)
    return (
        f"SELECT time, q[{sql.P50}] AS p50, q[{sql.P75}] AS p75, q[{sql.P95}] AS p95,"
        f" q[{sql.P99}] AS p99\n"
        "FROM (\n"
        f"    SELECT time, {sql.quantiles()} AS q\n"
        f"    FROM {source}\n"
        "    GROUP BY time\n"
        ") ORDER BY time"
    )


def rating_shares_over_time_sql() -> str:
    source = sql.rollup_source(sql.VITALS_ROLLUP, where=f"name = {VITAL}", series=True)
    return (
        "SELECT time, sum(good) / sum(weight) AS good,\n"
        "    sum(needs_improvement) / sum(weight) AS needs_improvement,"
        " sum(poor) / sum(weight) AS poor\n"
        f"FROM {source}\n"
        "GROUP BY time ORDER BY time"
    )


def p75_by_sql(vital: str, dimension: str, top: int | None = None) -> str:
    """p75 of `vital` per time bucket and `dimension` value (one heatmap row each)."""
    where = f"name = '{vital}' AND {dimension} != ''"
    ranked = sql.Busiest(dimension, top, where=where, by=dimension) if top else None
    source = sql.rollup_source(
        sql.VITALS_ROLLUP, where=where, by=dimension, series=True, top=ranked
    )
    return (
        f"SELECT time, {dimension},"
        f" {sql.quantiles()}[{sql.P75}] AS p75\n"
        f"FROM {source}\n"
        f"GROUP BY time, {dimension} ORDER BY time"
    )


def dashboard() -> dashboard_builder.Dashboard:
    board = (
        new_dashboard(
            KEY,
            "vitalsight · Performance distribution",
            "How a vital is distributed over time, and how LCP and INP differ by device and"
            " country.",
            [custom_variable("vital", "Vital", sql.VITALS), *filter_variables()],
        )
        .with_panel(
            timeseries_panel(
                "${vital} percentiles (p50 / p75 / p95 / p99)",
                percentile_bands_sql(),
                description="ms, except CLS (unitless).",
            )
        )
        .with_panel(
            timeseries_panel(
                "${vital} rating shares",
                rating_shares_over_time_sql(),
                unit="percentunit",
                stacked=True,
            )
        )
    )
    for vital in ("LCP", "INP"):
        board = board.with_panel(
            heatmap_panel(f"p75 {vital} by device", p75_by_sql(vital, "device"), unit="ms")
        ).with_panel(
            heatmap_panel(
                f"p75 {vital} by country (the {TOP_COUNTRIES} busiest)",
                p75_by_sql(vital, "country", TOP_COUNTRIES),
                unit="ms",
            )
        )
    return board
