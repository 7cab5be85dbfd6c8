"""8. AI insights: the insight service's incident cards (`rum_insights`, latest state of
each card via FINAL), with links to the evidence."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_builder

from vitalsight.grafana.dashboards import sql
from vitalsight.grafana.dashboards.links import DataLink, field_value, row_link
from vitalsight.grafana.dashboards.panels import stat_panel, table_panel
from vitalsight.grafana.dashboards.scaffold import new_dashboard
from vitalsight.grafana.dashboards.variables import filter_variable

KEY = "ai_insights"
_VARIABLES = ("app", "environment")
_SCOPE = f"{sql.variable_filter('app')} AND {sql.variable_filter('environment')}"
_IN_RANGE = "opened_at <= $__toTime AND (resolved_at IS NULL OR resolved_at >= $__fromTime)"


def cards_sql() -> str:
    return (
        "SELECT id, status, opened_at, resolved_at, app, environment, kind, metric, statistic,\n"
        "    route, release, baseline_release, baseline_value, current_value, change_pct, unit,\n"
        "    cause_kind, cause, confidence, confidence_label, summary, suggested_fix,\n"
        "    dashboard_url\n"
        "FROM rum_insights FINAL\n"
        f"WHERE {_IN_RANGE} AND {_SCOPE}\n"
        "ORDER BY status = 'open' DESC, opened_at DESC LIMIT 200"
    )


def count_sql(status: str) -> str:
    return (
        f"SELECT count() AS cards FROM rum_insights FINAL"
        f" WHERE status = '{status}' AND {_IN_RANGE} AND {_SCOPE}"
    )


def dashboard() -> dashboard_builder.Dashboard:
    evidence: DataLink = {"title": "Open the evidence", "url": field_value("dashboard_url")}
    compare = row_link(
        "Compare with the baseline release",
        "release_comparison",
        app="app",
        baseline="baseline_release",
        release="release",
        carried=_VARIABLES,
    )
    return (
        new_dashboard(
            KEY,
            "vitalsight · AI insights",
            "Incident cards from the insight service: what changed, the likely cause, how sure"
            " it is, and a suggested fix.",
            [filter_variable(name) for name in _VARIABLES],
        )
        .with_panel(stat_panel("Open", count_sql("open"), unit="short").span(12))
        .with_panel(stat_panel("Resolved", count_sql("resolved"), unit="short").span(12))
        .with_panel(
            table_panel(
                "Incident cards",
                cards_sql(),
                units={"change_pct": "percent", "confidence": "percentunit"},
                links={
                    "summary": [evidence],
                    "dashboard_url": [evidence],
                    "route": [
                        row_link(
                            "Route details", "routes", app="app", route="route", carried=_VARIABLES
                        )
                    ],
                    "release": [compare],
                },
                height=16,
            )
        )
    )
