"""Dashboard query benchmark: every panel query of every vitalsight dashboard, for the
default 24 h range and for 30 days, on a store holding `--page-views` page views (default
10M) over 30 days with their vitals, requests, errors and resources.

Seeding writes the fact tables directly with `INSERT … SELECT … FROM numbers()` (the
materialized views fill the per-minute rollups, as they do for real traffic); then a
`vitalsight serve` answers the queries, read through clickhouse-connect as Grafana's
ClickHouse datasource would send them (macros expanded by `vitalsight.grafana.macros`).

    .venv/bin/python bench/dashboards.py --page-views 1000000     # ~1 min
    .venv/bin/python bench/dashboards.py                          # 10M, see bench/README.md
    .venv/bin/python bench/dashboards.py --data-dir DIR --reuse   # query an already seeded DIR
    .venv/bin/python bench/dashboards.py --data-dir DIR --reuse --refill rum_page_views_1h_mv
        # migrate DIR to the current schema and fill a rollup added since it was seeded

Nothing is asserted: the script prints p50/p95 per panel, the target next to them (p95 <
300 ms on 30 days) and rollup-vs-raw ratios for the same figure computed both ways.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vitalsight.exporters.chdb_store import ChdbStore
from vitalsight.exporters.reader import connect_reader
from vitalsight.exporters.schema import load_migrations, migrate
from vitalsight.grafana.dashboards import all_dashboards, sql
from vitalsight.grafana.dashboards.extract import PanelQuery, all_queries, variable_queries
from vitalsight.grafana.macros import VariableValue, expand_macros
from vitalsight.service.serve_process import ServeProcess

QUERY_USER = "bench"
QUERY_PASSWORD = "bench-dashboards"
TARGET_P95_MS = 300.0
DAY_S = 86_400
ROLLUPS = (
    "rum_page_views_1m", "rum_vitals_1m", "rum_requests_1m", "rum_errors_1m",
    "rum_vitals_1h", "rum_vitals_1d", "rum_requests_1h", "rum_requests_1d", "rum_resources_1h",
    "rum_page_views_1h", "rum_vitals_series_1h", "rum_requests_series_1h", "rum_vitals_totals_1d",
    "rum_requests_totals_1d",
)  # fmt: skip

# --- seeding --------------------------------------------------------------------------------

# Country shares out of 100 (a skewed, realistic mix).
_COUNTRIES = {
    "US": 30, "DE": 10, "GB": 10, "FR": 8, "IN": 8, "BR": 7, "JP": 6, "CA": 5,
    "AU": 4, "NL": 3, "ES": 3, "IT": 2, "PL": 2, "MX": 1, "KR": 1,
}  # fmt: skip
_SHOP_ROUTES = ["/", "/search", "/results", "/product/:id", "/cart", "/checkout", "/account"]
_DOCS_ROUTES = ["/docs", "/docs/:section/:page", "/changelog"]
# (template, median ms): /api/recommendations is the slow one, as in the demo.
_ENDPOINTS = [
    ("/api/featured", 110), ("/api/search", 260), ("/api/search/suggest", 55),
    ("/api/products/:id", 140), ("/api/recommendations", 1500), ("/api/cart", 90),
    ("/api/checkout", 420), ("/api/docs/:id/toc", 80),
]  # fmt: skip
# (vital, median, sigma); mobile is 1.4x slower; 1.2.9 regresses LCP on /results 1.8x.
_VITALS = [("LCP", 1800, 0.5), ("FCP", 1200, 0.45), ("TTFB", 500, 0.6), ("CLS", 0.05, 0.9),
           ("INP", 150, 0.6)]  # fmt: skip
_ERRORS = [
    ("TypeError", "Cannot read properties of null (reading 'id')", "ProductCard.render"),
    ("Error", "ResizeObserver loop completed with undelivered notifications.", "observe"),
    ("ChunkLoadError", "Loading chunk 7 failed.", "__webpack_require__.f.j"),
    ("UnhandledRejection", "Request failed with status 500", "checkout"),
    ("SyntaxError", "Unexpected token '<'", "JSON.parse"),
]
_SPIKE = ("TypeError", "Cannot read properties of undefined (reading 'thumbnail')",
          "ResultCard.render")  # fmt: skip


def _u(key: int) -> str:
    """A deterministic uniform [0, 1) per page view (n) and key."""
    return f"(cityHash64(n, {key}) % 1000000) / 1000000.0"


def _s(key: int) -> str:
    """The same per session (4 consecutive page views share one)."""
    return f"(cityHash64(intDiv(n, 4), {key}) % 1000000) / 1000000.0"


def _z(key: int) -> str:
    """A standard normal (Box-Muller) per page view and key."""
    return f"sqrt(-2 * log({_u(key)} + 1e-9)) * cos(2 * pi() * {_u(key + 1000)})"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _tuple(values: Sequence[str]) -> str:
    return "(" + ", ".join(_literal(v) for v in values) + ")"


def _array(values: Sequence[str]) -> str:
    return "[" + ", ".join(_literal(v) for v in values) + "]"


def page_view_rows(first: int, count: int, *, start_ms: int, span_ms: int, total: int) -> str:
    """Page views n in [first, first + count), spread evenly over the span. Sessions carry
    app, browser, device, country, network and release; the route changes per page view."""
    countries = [c for c, share in _COUNTRIES.items() for _ in range(share)]
    rollout_ms = start_ms + span_ms - 7 * DAY_S * 1000  # 1.2.9 ramps up over 2 days
    return f"""
SELECT number AS n,
    fromUnixTimestamp64Milli(toInt64({start_ms} + n * {span_ms} / {total})) AS timestamp,
    if({_s(2)} < 0.7, 'shop-web', 'docs-site') AS app,
    'production' AS environment,
    multiIf(app = 'docs-site', '3.4.0',
            toUnixTimestamp64Milli(timestamp) >= {rollout_ms}
            AND {_s(4)} < (toUnixTimestamp64Milli(timestamp) - {rollout_ms}) / {2 * DAY_S * 1000},
            '1.2.9', '1.2.8') AS release,
    if(app = 'shop-web', {_array(_SHOP_ROUTES)}[1 + cityHash64(n, 3) % {len(_SHOP_ROUTES)}],
       {_array(_DOCS_ROUTES)}[1 + cityHash64(n, 3) % {len(_DOCS_ROUTES)}]) AS route,
    lower(hex(cityHash64(intDiv(n, 4), 9))) AS session_id,
    lower(hex(cityHash64(n, 10))) AS page_view_id,
    '' AS trace_id,
    multiIf({_s(5)} < 0.6, 'Chrome', {_s(5)} < 0.8, 'Safari', {_s(5)} < 0.88, 'Firefox',
            {_s(5)} < 0.96, 'Edge', 'Samsung Internet') AS browser,
    '120' AS browser_version,
    multiIf({_s(6)} < 0.55, 'desktop', {_s(6)} < 0.95, 'mobile', 'tablet') AS device,
    if(device = 'desktop', 'Windows', 'Android') AS os,
    {_array(countries)}[1 + cityHash64(intDiv(n, 4), 7) % {len(countries)}] AS country,
    if(browser IN ('Chrome', 'Edge', 'Samsung Internet'),
       ['4g', '4g', '4g', '3g', '2g'][1 + cityHash64(intDiv(n, 4), 8) % 5], '') AS network,
    toFloat32(if(app = 'docs-site', 0.5, 1)) AS sample_rate
FROM numbers({first}, {count})"""


_CONTEXT = (
    "timestamp, app, environment, release, route, session_id, page_view_id, trace_id, browser,"
    " browser_version, os, device, country, network, sample_rate"
)


def seed_statements(first: int, count: int, **span: int) -> dict[str, str]:
    """One INSERT per fact table for page views [first, first + count)."""
    rows = page_view_rows(first, count, **span)
    slow = "if(device = 'mobile', 1.4, 1)"
    vitals = ", ".join(f"('{n}', {m}, {s})" for n, m, s in _VITALS)
    thresholds = " ".join(
        f"name = '{n}', multiIf(value <= {g}, 'good', value <= {p}, 'needs-improvement', 'poor'),"
        for n, (g, p) in sql.THRESHOLDS.items()
    )
    endpoints = ", ".join(f"('{t}', {m})" for t, m in _ENDPOINTS)
    errors = ", ".join(_tuple(e) for e in _ERRORS)
    return {
        "rum_page_views": f"""
INSERT INTO rum_page_views ({_CONTEXT}, url, view_type, ttfb_ms, load_ms)
SELECT {_CONTEXT}, concat('https://', app, '.example.com', route), 'navigation',
    500 * {slow} * exp(0.6 * {_z(11)}), 2500 * {slow} * exp(0.5 * {_z(12)})
FROM ({rows})""",
        "rum_vitals": f"""
INSERT INTO rum_vitals ({_CONTEXT}, name, value, rating, delta, navigation_type)
SELECT {_CONTEXT}, v.1 AS name,
    v.2 * if(name IN ('LCP', 'FCP', 'INP', 'TTFB'), {slow}, 1)
        * if(name = 'LCP' AND route = '/results' AND release = '1.2.9', 1.8, 1)
        * exp(v.3 * sqrt(-2 * log((cityHash64(n, name) % 1000000) / 1000000.0 + 1e-9))
              * cos(2 * pi() * (cityHash64(n, name, 1) % 1000000) / 1000000.0)) AS value,
    multiIf({thresholds} '') AS rating, value, 'navigate'
FROM ({rows}) ARRAY JOIN [{vitals}] AS v
WHERE name != 'INP' OR cityHash64(n, 13) % 10 < 8""",
        "rum_requests": f"""
INSERT INTO rum_requests ({_CONTEXT}, url, url_template, method, status, duration_ms,
    server_address, span_id)
SELECT {_CONTEXT}, concat('https://api.example.com', e.1), e.1 AS url_template,
    if(e.1 = '/api/checkout', 'POST', 'GET'),
    multiIf(cityHash64(n, k) % 1000 < 5, 500, cityHash64(n, k) % 1000 < 7, 0,
            cityHash64(n, k) % 1000 < 17, 404, 200),
    e.2 * {slow} * exp(0.55 * sqrt(-2 * log((cityHash64(n, k, 2) % 1000000) / 1000000.0
        + 1e-9)) * cos(2 * pi() * (cityHash64(n, k, 3) % 1000000) / 1000000.0)),
    'api.example.com', lower(hex(cityHash64(n, k, 4)))
FROM (
    SELECT *, k, [{endpoints}][1 + cityHash64(n, k, 5) % {len(_ENDPOINTS)}] AS e
    FROM ({rows}) ARRAY JOIN [1, 2] AS k
)""",
        "rum_errors": f"""
INSERT INTO rum_errors ({_CONTEXT}, type, message, stack, fingerprint, source)
SELECT {_CONTEXT}, err.1, err.2, concat(err.1, ': ', err.2, '\\n    at ', err.3, ' (app.js:1:1)'),
    lower(hex(cityHash64(err.1, err.2))), 'error'
FROM (
    SELECT *, route = '/results' AND release = '1.2.9' AND {_u(20)} < 0.12 AS spike,
        if(spike, {_tuple(_SPIKE)}, [{errors}][1 + cityHash64(n, 21) % {len(_ERRORS)}]) AS err
    FROM ({rows})
) WHERE spike OR {_u(22)} < 0.03""",
        "rum_resources": f"""
INSERT INTO rum_resources ({_CONTEXT}, url, initiator_type, transfer_size, encoded_size,
    decoded_size, duration_ms, render_blocking)
SELECT {_CONTEXT},
    concat('https://static.example.com/static/app.', lower(hex(cityHash64(release))), '.js'),
    'script', toUInt64(size * 0.29 + 320), toUInt64(size * 0.29), toUInt64(size),
    20 * exp(0.5 * {_z(30)}), 'non-blocking'
FROM (SELECT *, if(release = '1.2.9', 538907, 412331) AS size FROM ({rows}))""",
    }


def seed(data_dir: Path, *, page_views: int, days: int, end: datetime) -> dict[str, float]:
    """Fill `data_dir` one day of page views at a time; returns seconds per table."""
    span_ms = days * DAY_S * 1000
    start_ms = int(end.timestamp() * 1000) - span_ms
    store = ChdbStore(data_dir)
    seconds: dict[str, float] = {}
    try:
        migrate(store)
        per_day = -(-page_views // days)
        for first in range(0, page_views, per_day):
            count = min(per_day, page_views - first)
            statements = seed_statements(
                first, count, start_ms=start_ms, span_ms=span_ms, total=page_views
            )
            for table, statement in statements.items():
                started = time.perf_counter()
                store.command(statement)
                seconds[table] = seconds.get(table, 0.0) + time.perf_counter() - started
            print(f"  seeded {first + count:,} / {page_views:,} page views", flush=True)
        started = time.perf_counter()
        for table in ROLLUPS:
            store.command(f"OPTIMIZE TABLE {table} FINAL")  # what background merges reach
        seconds["OPTIMIZE rollups"] = time.perf_counter() - started
    finally:
        store.close()
    return seconds


_VIEW = re.compile(r"^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS\s", re.MULTILINE)


def refill(data_dir: Path, views: Sequence[str]) -> dict[str, float]:
    """Bring a seeded store to the current schema, then fill each view's target table from
    the facts with the view's own SELECT (what the view does at insert time); seconds each."""
    selects: dict[str, tuple[str, str]] = {}
    for migration in load_migrations():
        for statement in migration.statements:
            match = _VIEW.match(statement)
            if match:
                selects[match[1]] = (match[2], statement[match.end() :])
    unknown = [view for view in views if view not in selects]
    if unknown:
        raise SystemExit(f"no such materialized view: {', '.join(unknown)}")
    store = ChdbStore(data_dir)
    seconds: dict[str, float] = {}
    try:
        migrate(store)
        for view in views:
            target, select = selects[view]
            started = time.perf_counter()
            store.command(f"TRUNCATE TABLE {target}")
            store.command(f"INSERT INTO {target} {select}")
            store.command(f"OPTIMIZE TABLE {target} FINAL")
            seconds[target] = time.perf_counter() - started
    finally:
        store.close()
    return seconds


def row_counts(client: Any) -> dict[str, int]:
    tables = ["rum_page_views", "rum_vitals", "rum_requests", "rum_errors", "rum_resources"]
    return {
        t: int(client.query(f"SELECT count() FROM {t}").result_rows[0][0])
        for t in [*tables, *ROLLUPS]
    }


# --- the server -----------------------------------------------------------------------------


def start_server(data_dir: Path) -> ServeProcess:
    return ServeProcess(
        data_dir, query_user=QUERY_USER, query_password=QUERY_PASSWORD, log_level="WARNING"
    ).start()


# --- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    label: str
    time_from: datetime
    time_to: datetime

    @property
    def interval_s(self) -> int:
        """Grafana's $__interval for ~1,000 points, never below the rollups' minute."""
        seconds = (self.time_to - self.time_from).total_seconds() / 1000
        return max(60, int(-(-seconds // 60) * 60))


@dataclass
class Timing:
    query: PanelQuery
    range_label: str
    ms: list[float]
    rows: int

    def percentile(self, q: float) -> float:
        return percentile(self.ms, q)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (with 7 runs, p95 is the slowest)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _expand(raw_sql: str, r: Range, variables: Mapping[str, VariableValue],
            options: Mapping[str, VariableValue]) -> str:  # fmt: skip
    return expand_macros(
        raw_sql,
        time_from=r.time_from,
        time_to=r.time_to,
        interval_s=r.interval_s,
        variables=variables,
        all_values=options,
    )


def dashboard_variables(
    client: Any, stem: str, model: Mapping[str, Any], r: Range
) -> tuple[dict[str, VariableValue], dict[str, VariableValue]]:
    """Current values (defaults, as a first visit shows them) and query-variable options."""
    variables: dict[str, VariableValue] = {}
    for variable in model["templating"]["list"]:
        if variable["type"] == "textbox":
            variables[variable["name"]] = variable.get("query", "")
        elif variable.get("current"):
            variables[variable["name"]] = variable["current"]["value"]
    if stem == "release_comparison":  # the seeded rollout: 1.2.9 against 1.2.8
        variables.update(release="1.2.9", baseline="1.2.8")
    options: dict[str, VariableValue] = {}
    for query in variable_queries(stem, model):
        result = client.query(_expand(query.raw_sql, r, variables, options))
        options[query.title.removeprefix("$")] = [str(row[0]) for row in result.result_rows]
    return variables, options


def time_query(client: Any, statement: str, runs: int) -> tuple[list[float], int]:
    client.query(statement)  # warm-up: caches, marks, first-run compilation
    timings = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        result = client.query(statement)
        timings.append((time.perf_counter() - started) * 1000)
        rows = len(result.result_rows)
    return timings, rows


def measure(
    client: Any, ranges: Sequence[Range], runs: int, only: Sequence[str] = ()
) -> list[Timing]:
    timings: list[Timing] = []
    dashboards = all_dashboards()
    for r in ranges:
        for stem, model in dashboards.items():
            variables, options = dashboard_variables(client, stem, model, r)
            if stem == "sessions":  # what a click on the first listed session selects
                listed = client.query(_expand(_panel_sql(model, 0), r, variables, options))
                if listed.result_rows:
                    variables["session_id"] = str(listed.result_rows[0][0])
            for query in all_queries({stem: model}):  # variables run on every load, too
                if only and not any(text in query.name for text in only):
                    continue
                statement = _expand(query.raw_sql, r, variables, options)
                ms, rows = time_query(client, statement, runs)
                timings.append(Timing(query, r.label, ms, rows))
                print(f"  {r.label:>4} {query.name[:70]:<70} p50 {percentile(ms, 0.5):8.1f} ms",
                      flush=True)  # fmt: skip
    return timings


def _panel_sql(model: Mapping[str, Any], index: int) -> str:
    return str(model["panels"][index]["targets"][0]["rawSql"])


# The same figure from the rollups (as the panels read them: per-minute rows on 24 h, hourly
# and daily ones on 30 days) and from raw facts.
_LCP_ROLLUP = sql.rollup_source(sql.VITALS_ROLLUP, where="name = 'LCP'")
_ROLLUP_VS_RAW = {
    "p75 LCP": (
        f"SELECT {sql.quantiles()}[{sql.P75}] FROM {_LCP_ROLLUP}",
        f"SELECT {sql.quantiles_raw('value')}[{sql.P75}] FROM rum_vitals"
        f" WHERE $__timeFilter(timestamp) AND name = 'LCP' AND {sql.filters()}",
    ),
    "page views (weighted)": (
        f"SELECT sum(weight) FROM rum_page_views_1m WHERE $__timeFilter(minute)"
        f" AND {sql.filters()}",
        f"SELECT {sql.RAW_WEIGHT} FROM rum_page_views WHERE $__timeFilter(timestamp)"
        f" AND {sql.filters()}",
    ),
    "p95 per endpoint": (
        f"SELECT url_template, {sql.quantiles()}[{sql.P95}]"
        f" FROM {sql.rollup_source(sql.REQUESTS_ROLLUP)} GROUP BY url_template",
        f"SELECT url_template, {sql.quantiles_raw('duration_ms')}[{sql.P95}]"
        f" FROM rum_requests WHERE $__timeFilter(timestamp) AND {sql.filters()}"
        " GROUP BY url_template",
    ),
}


def _first_value(client: Any, statement: str) -> str:
    """The first row's last cell, for a glance at rollup vs raw values."""
    rows = client.query(statement + " ORDER BY 1 LIMIT 1" if "GROUP BY" in statement
                        else statement).result_rows  # fmt: skip
    return f"{rows[0][-1]:.6g}" if rows else "-"


def rollup_vs_raw(client: Any, ranges: Sequence[Range], runs: int) -> list[tuple[str, ...]]:
    variables: dict[str, VariableValue] = {name: ["$__all"] for name in sql.FILTER_VARIABLES}
    lines: list[tuple[str, ...]] = []
    for r in ranges:
        for name, (rollup, raw) in _ROLLUP_VS_RAW.items():
            rollup_sql, raw_sql = _expand(rollup, r, variables, {}), _expand(raw, r, variables, {})
            rollup_ms, _ = time_query(client, rollup_sql, runs)
            raw_ms, _ = time_query(client, raw_sql, runs)
            a, b = percentile(rollup_ms, 0.5), percentile(raw_ms, 0.5)
            values = _first_value(client, rollup_sql), _first_value(client, raw_sql)
            lines.append(
                (r.label, name, f"{a:.1f}", f"{b:.1f}", f"{b / a:.2f}x", "{} / {}".format(*values))
            )
    return lines


# --- report ---------------------------------------------------------------------------------


def report(timings: Sequence[Timing], ratios: Sequence[tuple[str, ...]]) -> None:
    if not timings:
        print("\nno query matched --only")
        return
    by_query: dict[str, dict[str, Timing]] = {}
    for t in timings:
        by_query.setdefault(t.query.name, {})[t.range_label] = t
    labels = sorted({t.range_label for t in timings}, key=lambda label: label != "24h")
    print("\npanel" + " " * 66 + "".join(f"{label:>10} p50{label:>6} p95" for label in labels)
          + "   rows (30d)  target")  # fmt: skip
    misses = 0
    for name, per_range in by_query.items():
        cells = "".join(
            f"{per_range[label].percentile(0.5):14.1f}{per_range[label].percentile(0.95):10.1f}"
            if label in per_range
            else " " * 24
            for label in labels
        )
        last = per_range[labels[-1]]
        ok = last.percentile(0.95) < TARGET_P95_MS
        misses += not ok
        print(f"{name[:70]:<70} {cells} {last.rows:12,}  {'ok' if ok else 'MISS'}")
    print(
        f"\ntarget: every panel p95 < {TARGET_P95_MS:.0f} ms on {labels[-1]}:"
        f" {len(by_query) - misses} ok, {misses} MISS"
    )
    print("\nrollup vs raw (p50 ms; raw / rollup)")
    for line in ratios:
        print("  {:>4}  {:<24} rollup {:>9}  raw {:>9}  {}  (values {})".format(*line))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page-views", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per query (+1 warm-up)")
    parser.add_argument("--data-dir", type=Path, help="store directory (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="query --data-dir as seeded")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--refill", action="append", default=[], metavar="VIEW",
        help="with --reuse: migrate, then fill VIEW's table from the facts (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--only", action="append", default=[], metavar="TEXT",
        help="time only the queries whose name contains TEXT (repeatable; for iterating)",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="vitalsight-bench-dashboards-"))
    end = datetime.now(UTC).replace(microsecond=0)
    try:
        if not args.reuse:
            print(f"seeding {args.page_views:,} page views over {args.days} days in {data_dir}")
            started = time.perf_counter()
            per_table = seed(data_dir, page_views=args.page_views, days=args.days, end=end)
            total = time.perf_counter() - started
            for table, seconds in per_table.items():
                print(f"  {table:<20} {seconds:8.1f} s")
            print(f"  seeding took {total:.1f} s")
        elif args.refill:
            for table, seconds in refill(data_dir, args.refill).items():
                print(f"  refilled {table:<24} {seconds:8.1f} s")
        server = start_server(data_dir)
        client = connect_reader(server.query_url, username=QUERY_USER, password=QUERY_PASSWORD)
        try:
            for table, count in row_counts(client).items():
                print(f"  {table:<20} {count:>14,} rows")
            if args.reuse:  # the newest page view marks "now" of the seeded data
                end = client.query("SELECT max(timestamp) FROM rum_page_views").result_rows[0][0]
                end = end.replace(tzinfo=UTC)
            ranges = [
                Range("24h", end - timedelta(days=1), end),
                Range(f"{args.days}d", end - timedelta(days=args.days), end),
            ]
            load_before = os.getloadavg()[0]
            timings = measure(client, ranges, args.runs, args.only)
            ratios = rollup_vs_raw(client, ranges, args.runs)
            load_after = os.getloadavg()[0]
        finally:
            client.close()
            server.stop()
        report(timings, ratios)
        # other processes on the cores slow every figure down
        print(f"\nhost 1-min load average: {load_before:.2f} before, {load_after:.2f} after")
    finally:
        if args.data_dir is None and not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
