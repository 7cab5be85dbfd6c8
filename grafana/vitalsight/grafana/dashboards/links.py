"""Drill-down links: from a row to the next dashboard, carrying the time range and every
filter over and setting the filters the row pins (`var-route=<the row's route>`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from grafana_foundation_sdk.builders import dashboard as dashboard_builder
from grafana_foundation_sdk.models import dashboard

from vitalsight.grafana.dashboards import sql
from vitalsight.grafana.uids import DASHBOARD_UIDS

DataLink = dict[str, object]


def field_value(column: str) -> str:
    """The clicked row's value of `column` (Grafana data-link variable)."""
    return f"${{__data.fields.{column}}}"


def dashboard_url(
    target: str,
    pinned: Mapping[str, str] | None = None,
    carried: Sequence[str] = sql.FILTER_VARIABLES,
) -> str:
    """URL of dashboard `target` (a key of DASHBOARD_UIDS) with the same time range and
    the `carried` filters (those the source dashboard has); `pinned` sets variables
    (name → value or data-link variable) instead."""
    pinned = pinned or {}
    params = ["${__url_time_range}"]
    params += [f"${{{name}:queryparam}}" for name in carried if name not in pinned]
    params += [f"var-{name}={value}" for name, value in pinned.items()]
    return f"/d/{DASHBOARD_UIDS[target]}?" + "&".join(params)


def drill_link(
    title: str,
    target: str,
    pinned: Mapping[str, str] | None = None,
    carried: Sequence[str] = sql.FILTER_VARIABLES,
) -> DataLink:
    """A data link (on a field) to another dashboard."""
    return {"title": title, "url": dashboard_url(target, pinned, carried)}


def row_link(
    title: str,
    target: str,
    *,
    also: Mapping[str, str] | None = None,
    carried: Sequence[str] = sql.FILTER_VARIABLES,
    **pinned_columns: str,
) -> DataLink:
    """A data link pinning each variable to a column of the clicked row
    (`row_link("Routes", "routes", route="route")`); `also` pins further variables to fixed
    values or other variables."""
    pinned = {name: field_value(column) for name, column in pinned_columns.items()}
    return drill_link(title, target, {**pinned, **(also or {})}, carried)


def links_override(links: list[DataLink]) -> list[dashboard.DynamicConfigValue]:
    """Override properties putting `links` on a field."""
    return [dashboard.DynamicConfigValue(id_val="links", value=links)]


def dashboards_menu() -> dashboard_builder.DashboardLink:
    """The header dropdown to every vitalsight dashboard, keeping time and filters."""
    return (
        dashboard_builder.DashboardLink("vitalsight")
        .type(dashboard.DashboardLinkType.DASHBOARDS)
        .tags(["vitalsight"])
        .as_dropdown(True)
        .include_vars(True)
        .keep_time(True)
    )
