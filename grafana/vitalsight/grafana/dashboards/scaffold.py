"""What every vitalsight dashboard has: stable uid, tags, UTC, default range, the header
menu to the others, and the filter variables."""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import dashboard as dashboard_builder
from grafana_foundation_sdk.models import dashboard

from vitalsight.grafana.dashboards.links import dashboards_menu
from vitalsight.grafana.dashboards.variables import Variable
from vitalsight.grafana.uids import DASHBOARD_UIDS

DEFAULT_RANGE = ("now-24h", "now")
TAGS = ["vitalsight", "rum"]


def new_dashboard(
    key: str, title: str, description: str, variables: Sequence[Variable]
) -> dashboard_builder.Dashboard:
    """A dashboard with the uid of `key` in DASHBOARD_UIDS."""
    return (
        dashboard_builder.Dashboard(title)
        .uid(DASHBOARD_UIDS[key])
        .description(description)
        .tags(TAGS)
        .timezone("utc")
        .time(*DEFAULT_RANGE)
        .refresh("5m")
        .editable()
        .tooltip(dashboard.DashboardCursorSync.CROSSHAIR)
        .link(dashboards_menu())
        .variables(list(variables))
    )
