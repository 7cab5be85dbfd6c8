"""Dashboard variables: the eight multi-select filters (with "All"), and the single-value
selectors some dashboards add (a vital, two releases, a fingerprint, a session)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from grafana_foundation_sdk.builders import dashboard as dashboard_builder
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard

from vitalsight.grafana.dashboards import sql
from vitalsight.grafana.dashboards.datasource import DATASOURCE

Variable = cogbuilder.Builder[dashboard.VariableModel]

_LABELS = {
    "app": "App",
    "environment": "Environment",
    "release": "Release",
    "route": "Route",
    "browser": "Browser",
    "device": "Device",
    "country": "Country",
    "network": "Network",
}


def filter_variable_query(name: str) -> str:
    """Values seen in the range (page-view rollup), narrowed by the app selection."""
    table = sql.PAGE_VIEWS_1M
    app = "" if name == "app" else f" AND {sql.variable_filter('app')}"
    return (
        f"SELECT DISTINCT {name} FROM {table.name} "
        f"WHERE {table.time_filter} AND {name} != ''{app} ORDER BY {name}"
    )


def filter_variable(name: str) -> Variable:
    return (
        dashboard_builder.QueryVariable(name)
        .label(_LABELS[name])
        .datasource(DATASOURCE)
        .query(filter_variable_query(name))
        .multi(True)
        .include_all(True)
        .current(dashboard.VariableOption(text=["All"], value=["$__all"], selected=True))
        .refresh(dashboard.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dashboard.VariableSort.ALPHABETICAL_ASC)
    )


def filter_variables(*, exclude: Iterable[str] = ()) -> list[Variable]:
    skipped = set(exclude)
    return [filter_variable(name) for name in sql.FILTER_VARIABLES if name not in skipped]


def release_query(excluding: str | None = None) -> str:
    """Releases of the selected apps in the range, newest first (Grafana preselects the
    first). With `excluding` (another release variable): the other releases, those of the
    same app first, so a baseline defaults to the release before the candidate."""
    table = sql.PAGE_VIEWS_1M
    scope = f"{table.time_filter} AND release != '' AND {sql.variable_filter('app')}"
    if excluding is None:
        return (
            f"SELECT release FROM {table.name} WHERE {scope}"
            " GROUP BY release ORDER BY min(minute) DESC"
        )
    chosen = f"${{{excluding}:singlequote}}"
    same_app = (
        f"countIf(app IN (SELECT app FROM {table.name}"
        f" WHERE {table.time_filter} AND release = {chosen})) > 0"
    )
    return (
        f"SELECT release FROM {table.name} WHERE {scope} AND release != {chosen}"
        f" GROUP BY release ORDER BY {same_app} DESC, min(minute) DESC"
    )


def release_variable(name: str, label: str, *, excluding: str | None = None) -> Variable:
    """A single release; `excluding` names another release variable this one must differ
    from (a baseline then defaults to the release before the newest)."""
    return (
        dashboard_builder.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(release_query(excluding))
        .refresh(dashboard.VariableRefresh.ON_TIME_RANGE_CHANGED)
    )


def custom_variable(name: str, label: str, values: Sequence[str]) -> Variable:
    return (
        dashboard_builder.CustomVariable(name)
        .label(label)
        .values(",".join(values))
        .current(dashboard.VariableOption(text=values[0], value=values[0], selected=True))
    )


def text_variable(name: str, label: str) -> Variable:
    """Free text, set by drill-down links (empty: no selection)."""
    return dashboard_builder.TextBoxVariable(name).label(label).default_value("")
