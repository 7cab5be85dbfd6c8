"""7. Sessions: find a session, then see its page views, vitals, requests and errors on
one timeline, and a trace of it in Grafana's trace view (`otel_traces`)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_builder

from vitalsight.grafana.dashboards import sql
from vitalsight.grafana.dashboards.links import row_link
from vitalsight.grafana.dashboards.panels import table_panel, traces_panel
from vitalsight.grafana.dashboards.scaffold import new_dashboard
from vitalsight.grafana.dashboards.variables import filter_variables, text_variable

KEY = "sessions"
SESSION = "${session_id:singlequote}"
TRACE = "${trace_id:singlequote}"
RECENT_WINDOW = "INTERVAL 1 HOUR"
"""The session list looks at the last hour of the range only: sessions are not rolled up,
and grouping a month of raw page views by session would be slow and unreadable anyway."""


def sessions_sql() -> str:
    """The filters apply to the rows, before the per-session aliases (`app`, `release`…)
    would shadow the columns of the same name."""
    t = sql.PAGE_VIEWS_RAW
    return (
        "SELECT session_id, min(timestamp) AS started, max(timestamp) AS last_seen,\n"
        "    count() AS page_views, any(app) AS app, any(release) AS release,"
        " any(browser) AS browser,\n"
        "    any(device) AS device, any(country) AS country,"
        " arrayStringConcat(groupUniqArray(5)(route), ', ') AS routes\n"
        "FROM (\n"
        f"    SELECT * FROM {t.name}\n"
        f"    WHERE timestamp >= greatest($__fromTime, $__toTime - {RECENT_WINDOW})"
        " AND timestamp <= $__toTime\n"
        f"        AND session_id != '' AND ({SESSION} = '' OR session_id = {SESSION})\n"
        f"        AND {sql.filters()}\n"
        ")\n"
        "GROUP BY session_id ORDER BY last_seen DESC LIMIT 100"
    )


def _session_rows(table: sql.Table, kind: str, name: str, value: str, detail: str) -> str:
    return (
        f"    SELECT timestamp AS time, '{kind}' AS kind, toString({name}) AS name,\n"
        f"        CAST({value} AS Nullable(Float64)) AS value, toString({detail}) AS detail,\n"
        "        toString(route) AS route, trace_id\n"
        f"    FROM {table.name} WHERE {table.time_filter} AND session_id = {SESSION}"
    )


def timeline_sql() -> str:
    """Everything the session did, in order (raw facts, by session id)."""
    parts = [
        _session_rows(sql.PAGE_VIEWS_RAW, "page view", "route", "load_ms", "url"),
        _session_rows(sql.VITALS_RAW, "vital", "name", "value", "concat(rating, ' ', target)"),
        _session_rows(
            sql.REQUESTS_RAW,
            "request",
            "concat(method, ' ', url_template)",
            "duration_ms",
            "status",
        ),
        _session_rows(sql.ERRORS_RAW, "error", "type", "NULL", "message"),
    ]
    return (
        "SELECT time, kind, name, value, detail, route, trace_id FROM (\n"
        + "\n    UNION ALL\n".join(parts)
        + f"\n) WHERE {SESSION} != '' ORDER BY time, kind LIMIT 2000"
    )


def trace_sql() -> str:
    """The plugin's trace format; the trace-id index table bounds the time scanned."""
    return (
        "WITH (SELECT (min(Start), max(End)) FROM otel_traces_trace_id_ts"
        f" WHERE TraceId = {TRACE}) AS bounds\n"
        "SELECT TraceId AS traceID, SpanId AS spanID, ParentSpanId AS parentSpanID,\n"
        "    ServiceName AS serviceName, SpanName AS operationName,\n"
        "    toUnixTimestamp64Milli(Timestamp) AS startTime, Duration / 1000000 AS duration,\n"
        "    arrayMap(key -> map('key', key, 'value', SpanAttributes[key]),"
        " mapKeys(SpanAttributes)) AS tags,\n"
        "    arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]),"
        " mapKeys(ResourceAttributes)) AS serviceTags\n"
        "FROM otel_traces\n"
        f"WHERE TraceId = {TRACE} AND Timestamp >= bounds.1 AND Timestamp <= bounds.2 + 1\n"
        "ORDER BY startTime LIMIT 1000"
    )


def dashboard() -> dashboard_builder.Dashboard:
    return (
        new_dashboard(
            KEY,
            "vitalsight · Sessions",
            "Find a session (or follow a link here), then read what it did in order.",
            [
                *filter_variables(),
                text_variable("session_id", "Session id"),
                text_variable("trace_id", "Trace id"),
            ],
        )
        .with_panel(
            table_panel(
                "Recent sessions (last hour of the range)",
                sessions_sql(),
                links={
                    "session_id": [
                        row_link(
                            "Timeline", "sessions", session_id="session_id", trace_id="trace_id"
                        )
                    ]
                },
                height=9,
            )
        )
        .with_panel(
            table_panel(
                "Session timeline",
                timeline_sql(),
                units={"value": "none"},
                links={
                    "trace_id": [
                        row_link(
                            "Show this trace",
                            "sessions",
                            trace_id="trace_id",
                            also={"session_id": "${session_id}"},
                        )
                    ],
                    "route": [row_link("Route details", "routes", route="route")],
                },
                height=12,
            )
        )
        .with_panel(traces_panel("Trace", trace_sql()))
    )
