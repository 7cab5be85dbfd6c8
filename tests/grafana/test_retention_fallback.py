"""Raw facts are kept `retention.raw_days`, the per-minute rollups `retention.rollup_days`:
a panel whose range reaches past the oldest raw fact, with a filter the hourly and daily
rollups lack (here device), reads the older part from the per-minute rollups. On a real chDB
store whose raw facts 60 days old were dropped by the retention TTL, read through
`vitalsight serve`'s query endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.grafana.dashboards_queries import DashboardRunner
from tests.serve_process import ServeProcess
from vitalsight.exporters.chdb_store import ChdbStore
from vitalsight.exporters.retention import apply_retention
from vitalsight.exporters.schema import migrate
from vitalsight.grafana.dashboards import all_dashboards

DASHBOARDS = all_dashboards()
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
OLD = NOW - timedelta(days=60, hours=3)  # past the 30 days of raw facts
RECENT = NOW - timedelta(days=5, hours=3)
DAY_S = 86_400

# (moment, device, LCP value, requests answered 500 of 100 on /api/cart)
SEEDED = [
    (OLD, "mobile", 4000.0, 10),
    (OLD, "desktop", 1000.0, 0),
    (RECENT, "mobile", 2000.0, 30),
    (RECENT, "desktop", 500.0, 0),
]
ROWS = 100  # per (moment, device), one a second


def _insert(
    store: ChdbStore,
    moment: datetime,
    device: str,
    lcp: float,
    failed: int,
    endpoint: str = "/api/cart",
    vitals: bool = True,
) -> None:
    start_ms = int(moment.timestamp() * 1000)
    context = (
        f"fromUnixTimestamp64Milli(toInt64({start_ms} + number * 1000)) AS timestamp,"
        f" 'shop' AS app, 'production' AS environment, '1.0.0' AS release, '/cart' AS route,"
        f" 'chrome' AS browser, '{device}' AS device, 'DE' AS country, '4g' AS network,"
        " toFloat32(1) AS sample_rate"
    )
    columns = "timestamp, app, environment, release, route, browser, device, country, network"
    if vitals:
        store.command(
            f"INSERT INTO rum_vitals ({columns}, sample_rate, name, value, rating)"
            f" SELECT {columns}, sample_rate, 'LCP', {lcp}, if({lcp} <= 2500, 'good', 'poor')"
            f" FROM (SELECT {context} FROM numbers({ROWS}))"
        )
    store.command(
        f"INSERT INTO rum_requests ({columns}, sample_rate, url, url_template, method, status,"
        " duration_ms)"
        f" SELECT {columns}, sample_rate, 'https://api.example.com{endpoint}', '{endpoint}', 'GET',"
        f" if(number < {failed}, 500, 200), 100 + number"
        f" FROM (SELECT {context}, number FROM numbers({ROWS}))"
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A store with LCP and requests 60 and 5 days old whose raw facts older than 30 days
    the retention TTL dropped (the rollups keep them), then served."""
    data_dir: Path = tmp_path_factory.mktemp("retention")
    store = ChdbStore(data_dir)
    try:
        migrate(store)
        for row in SEEDED:
            _insert(store, *row)
        _insert(store, OLD, "mobile", 0, 0, endpoint="/api/legacy", vitals=False)  # gone since
        apply_retention(store, raw_days=30, rollup_days=395)
        for table in ("rum_vitals", "rum_requests"):
            store.command(f"OPTIMIZE TABLE {table} FINAL")  # a merge applies the TTL
        old = f"timestamp < toDateTime({int((NOW - timedelta(days=30)).timestamp())})"
        assert store.rows(f"SELECT count() FROM rum_vitals WHERE {old}") == [(0,)]
        assert store.rows(f"SELECT count() FROM rum_requests WHERE {old}") == [(0,)]
        old_minutes = f"minute < toDateTime({int((NOW - timedelta(days=30)).timestamp())})"
        assert store.rows(f"SELECT sum(samples) FROM rum_vitals_1m WHERE {old_minutes}") == [
            (2 * ROWS,)
        ]
    finally:
        store.close()
    serve = ServeProcess(data_dir).start()
    try:
        client = serve.client()
        yield client
        client.close()
    finally:
        serve.stop()


def _runner(client: Any, stem: str, days: int, interval_s: int, **initial: Any) -> DashboardRunner:
    return DashboardRunner(
        client,
        stem,
        DASHBOARDS[stem],
        time_from=NOW - timedelta(days=days),
        time_to=NOW,
        interval_s=interval_s,
        **initial,
    )


def _day(moment: datetime) -> datetime:
    return datetime.fromtimestamp(moment.timestamp() // DAY_S * DAY_S, UTC)


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


@pytest.mark.parametrize("days", [60 + 1, 90])
def test_a_narrowed_range_past_raw_retention_reads_the_per_minute_rollups(
    served: Any, days: int
) -> None:
    runner = _runner(served, "performance_distribution", days, DAY_S, device=["mobile"])
    bands = runner.records("${vital} percentiles (p50 / p75 / p95 / p99)")
    by_day = {row["time"]: row for row in bands}
    old, recent = by_day[_naive(_day(OLD))], by_day[_naive(_day(RECENT))]
    assert old["p50"] == pytest.approx(4000, rel=0.01)  # per-minute rollups
    assert recent["p50"] == pytest.approx(2000, rel=0.01)  # raw facts
    assert len(bands) == 2

    shares = runner.records("${vital} rating shares")
    old_shares = {row["time"]: row for row in shares}[_naive(_day(OLD))]
    assert old_shares["poor"] == pytest.approx(1.0) and old_shares["good"] == pytest.approx(0.0)

    overview = _runner(served, "overview", days, DAY_S, device=["mobile"])
    (p75,) = overview.records("p75 LCP")
    # 100 values of 4000 (old) and 100 of 2000 (recent): the old half is there
    assert next(iter(p75.values())) == pytest.approx(4000, rel=0.01)


def test_status_codes_and_slow_requests_past_raw_retention(served: Any) -> None:
    runner = _runner(served, "api_performance", 90, DAY_S, device=["mobile"])
    by_day = {row["time"]: row for row in runner.records("Status codes over time")}
    old, recent = by_day[_naive(_day(OLD))], by_day[_naive(_day(RECENT))]
    assert (old["5xx"], old["2xx"]) == (pytest.approx(10), pytest.approx(90 + ROWS))  # + legacy
    assert (recent["5xx"], recent["2xx"]) == (pytest.approx(30), pytest.approx(70))

    # the busiest endpoints are ranked from the per-minute rollups too: /api/legacy has no
    # raw facts left
    series = runner.records("p95 latency (selected endpoint or the 5 busiest)")
    assert {row["endpoint"] for row in series} == {"GET /api/cart", "GET /api/legacy"}
    assert _naive(_day(OLD)) in {row["time"] for row in series}

    endpoints = {row["url_template"]: row for row in runner.records("Slowest endpoints")}
    endpoint = endpoints["/api/cart"]
    assert endpoint["requests"] == pytest.approx(2 * ROWS)
    assert endpoint["error_share"] == pytest.approx((10 + 30) / (2 * ROWS))


def test_unnarrowed_and_narrowed_ranges_agree_past_raw_retention(served: Any) -> None:
    """With the filters on "All" the hourly and daily rollups answer (they are kept as long
    as the per-minute ones); selecting every device explicitly reads raw facts and the
    per-minute rollups: the same weighted counts, no row counted twice."""
    every = _runner(served, "overview", 90, DAY_S)
    narrowed = _runner(served, "overview", 90, DAY_S, device=["mobile", "desktop"])
    shares = every.records("Rating shares")
    assert shares == narrowed.records("Rating shares")
    assert every.records("Slow API share") == narrowed.records("Slow API share")
    comparison = _runner(served, "api_performance", 90, DAY_S)
    all_devices = comparison.records("Slowest endpoints")
    both = comparison.records("Slowest endpoints", device=["mobile", "desktop"])
    assert {r["url_template"]: r["requests"] for r in all_devices} == {
        r["url_template"]: r["requests"] for r in both
    }
    assert sum(r["requests"] for r in both) == pytest.approx(5 * ROWS)
