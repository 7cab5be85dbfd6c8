"""Stable identifiers shared by dashboards, alert rules, `grafana push` and the insight
service's links: changing one breaks bookmarks and links, so they live in one place."""

DATASOURCE_UID = "vitalsight-clickhouse"
DATASOURCE_TYPE = "grafana-clickhouse-datasource"
FOLDER_UID = "vitalsight"
FOLDER_TITLE = "vitalsight RUM"

DASHBOARD_UIDS = {
    "overview": "vitalsight-overview",
    "routes": "vitalsight-routes",
    "release_comparison": "vitalsight-release-comparison",
    "errors": "vitalsight-errors",
    "api_performance": "vitalsight-api-performance",
    "performance_distribution": "vitalsight-performance-distribution",
    "sessions": "vitalsight-sessions",
    "ai_insights": "vitalsight-ai-insights",
}
