"""Retention: a TTL per table class, applied at start-up so a config change takes effect.

Raw tables and facts keep `raw_days`; rollups keep `rollup_days`. A TTL is only altered
when it differs, and parts are not rewritten (`ttl_only_drop_parts` drops whole days).
"""

from __future__ import annotations

import logging

from vitalsight.exporters.store import Store

logger = logging.getLogger(__name__)

RAW_TTL_COLUMNS = {
    "otel_logs": "TimestampTime",
    "otel_traces": "toDateTime(Timestamp)",
    "otel_traces_trace_id_ts": "Start",
    "otel_metrics_gauge": "toDateTime(TimeUnix)",
    "otel_metrics_sum": "toDateTime(TimeUnix)",
    "otel_metrics_histogram": "toDateTime(TimeUnix)",
    "rum_page_views": "toDateTime(timestamp)",
    "rum_vitals": "toDateTime(timestamp)",
    "rum_errors": "toDateTime(timestamp)",
    "rum_requests": "toDateTime(timestamp)",
    "rum_long_tasks": "toDateTime(timestamp)",
    "rum_resources": "toDateTime(timestamp)",
}
ROLLUP_TTL_COLUMNS = {
    "rum_vitals_1m": "minute",
    "rum_requests_1m": "minute",
    "rum_errors_1m": "minute",
    "rum_page_views_1m": "minute",
    "rum_vitals_1h": "hour",
    "rum_vitals_1d": "day",
    "rum_requests_1h": "hour",
    "rum_requests_1d": "day",
    "rum_resources_1h": "hour",
    "rum_page_views_1h": "hour",
    "rum_vitals_series_1h": "hour",
    "rum_requests_series_1h": "hour",
    "rum_vitals_totals_1d": "day",
    "rum_requests_totals_1d": "day",
    # Incident cards are kept as long as the rollups they summarise.
    "rum_insights": "toDateTime(opened_at)",
}


def apply_retention(store: Store, *, raw_days: int, rollup_days: int) -> list[str]:
    """Set every table's TTL; return the tables whose TTL changed."""
    engines = dict(
        store.rows("SELECT name, engine_full FROM system.tables WHERE database = currentDatabase()")
    )
    plan = [(t, c, raw_days) for t, c in RAW_TTL_COLUMNS.items()]
    plan += [(t, c, rollup_days) for t, c in ROLLUP_TTL_COLUMNS.items()]
    changed = []
    for table, column, days in plan:
        wanted = f"TTL {column} + toIntervalDay({days})"
        if wanted in str(engines.get(table, "")):
            continue
        store.command(f"ALTER TABLE {table} MODIFY TTL {column} + toIntervalDay({days})")
        changed.append(table)
    if changed:
        logger.info("retention set on %d tables (%d/%d days)", len(changed), raw_days, rollup_days)
    return changed
