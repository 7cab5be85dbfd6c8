"""Panel factories: every panel is one ClickHouse SQL query on the shared datasource plus
its visualisation. Dashboards only pick panels and lay them out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from grafana_foundation_sdk.builders import barchart, heatmap, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import dashboard as dashboard_builder
from grafana_foundation_sdk.models import common, dashboard

from vitalsight.grafana.dashboards.datasource import DATASOURCE
from vitalsight.grafana.dashboards.links import DataLink, links_override
from vitalsight.grafana.dashboards.query import SqlQuery

ROLLUP_MIN_INTERVAL = "1m"
"""Time buckets never go below the rollups' minute."""


def vital_thresholds(good: float, poor: float) -> dashboard_builder.ThresholdsConfig:
    """web.dev colours: green up to `good`, orange up to `poor`, red beyond."""
    return (
        dashboard_builder.ThresholdsConfig()
        .mode(dashboard.ThresholdsMode.ABSOLUTE)
        .steps(
            [
                dashboard.Threshold(value=None, color="green"),
                dashboard.Threshold(value=good, color="orange"),
                dashboard.Threshold(value=poor, color="red"),
            ]
        )
    )


def stat_panel(
    title: str,
    sql: str,
    *,
    unit: str = "none",
    thresholds: dashboard_builder.ThresholdsConfig | None = None,
    description: str = "",
    links: Sequence[DataLink] = (),
) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(SqlQuery(sql).table())
        .unit(unit)
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.VALUE)
        .reduce_options(common_builder.ReduceDataOptions().calcs(["lastNotNull"]))
        .height(4)
        .span(4)
    )
    if thresholds is not None:
        panel = panel.thresholds(thresholds)
    if links:
        panel = panel.with_override(
            dashboard.MatcherConfig(id_val="byType", options="number"), links_override(list(links))
        )
    return panel


def timeseries_panel(
    title: str,
    sql: str,
    *,
    unit: str = "none",
    description: str = "",
    stacked: bool = False,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(SqlQuery(sql).time_series())
        .interval(ROLLUP_MIN_INTERVAL)
        .unit(unit)
        .line_width(1)
        .fill_opacity(10)
        .height(8)
        .span(12)
    )
    if stacked:
        panel = panel.stacking(
            common_builder.StackingConfig().mode(common.StackingMode.NORMAL)
        ).fill_opacity(60)
    return panel


def table_panel(
    title: str,
    sql: str,
    *,
    description: str = "",
    units: Mapping[str, str] | None = None,
    links: Mapping[str, Sequence[DataLink]] | None = None,
    height: int = 10,
    span: int = 24,
) -> table.Panel:
    """A table; `units` and `links` are per column."""
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(SqlQuery(sql).table())
        .height(height)
        .span(span)
    )
    for column, unit in (units or {}).items():
        panel = panel.override_by_name(
            column, [dashboard.DynamicConfigValue(id_val="unit", value=unit)]
        )
    for column, column_links in (links or {}).items():
        panel = panel.override_by_name(column, links_override(list(column_links)))
    return panel


def shares_bar_chart(
    title: str, sql: str, *, x_field: str, description: str = ""
) -> barchart.Panel:
    """Horizontal 100% stacked bars (rating shares)."""
    return (
        barchart.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(SqlQuery(sql).table())
        .x_field(x_field)
        .orientation(common.VizOrientation.HORIZONTAL)
        .stacking(common.StackingMode.PERCENT)
        .unit("percentunit")
        .min(0)
        .max(1)
        .height(8)
        .span(12)
    )


def heatmap_panel(
    title: str, sql: str, *, unit: str = "none", description: str = ""
) -> heatmap.Panel:
    """A heatmap of pre-bucketed series: each series (one per device, country or status
    class) is a row of cells, so Grafana must not re-bucket (`calculate: false`)."""
    return (
        heatmap.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(SqlQuery(sql).time_series())
        .interval(ROLLUP_MIN_INTERVAL)
        .calculate(False)
        .unit(unit)
        .height(9)
        .span(12)
    )


def traces_panel(title: str, sql: str, *, description: str = "") -> dashboard_builder.Panel:
    """Grafana's trace view over the plugin's trace-format query."""
    return (
        dashboard_builder.Panel()
        .type("traces")
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(SqlQuery(sql).traces())
        .height(12)
        .span(24)
    )


def alert_list_panel(title: str, *, description: str = "") -> dashboard_builder.Panel:
    """Grafana's own firing alerts of the vitalsight folder (no datasource query)."""
    return (
        dashboard_builder.Panel()
        .type("alertlist")
        .title(title)
        .description(description)
        .options(
            {
                "viewMode": "list",
                "groupMode": "default",
                "maxItems": 10,
                "sortOrder": 1,
                "stateFilter": {"firing": True, "pending": True, "error": True},
                "alertInstanceLabelFilter": "",
                "showInstances": True,
                "dashboardAlerts": False,
            }
        )
        .height(8)
        .span(12)
    )


def row(title: str) -> dashboard_builder.Row:
    return dashboard_builder.Row(title)
