"""`vitalsight report` on demo data: the report queries run on a real chDB store, read
through clickhouse-connect and the query endpoint as every reader does, and find the
planted 1.2.9 LCP regression on /results.

The report is also built straight from the store (`StoreClient`), so the SQL is checked
even where the query endpoint is not importable.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from aiohttp import web
from rich.console import Console

from tests.serve_process import ServeProcess
from vitalsight.exporters.batch import TableRows
from vitalsight.exporters.chdb_store import ChdbStore
from vitalsight.exporters.encode import encode_request
from vitalsight.exporters.query_endpoint import create_query_app
from vitalsight.exporters.schema import migrate
from vitalsight.service.demo import REGRESSION, SPIKING_ERROR, generate_demo
from vitalsight.service.demo_send import send_demo
from vitalsight.service.report import (
    Quantiles,
    Report,
    VitalStat,
    build_report,
    find_regressions,
    render_report,
)
from vitalsight.service.report_queries import Filters, quote, vitals_sql

MINUTES = 30
SESSIONS_PER_MINUTE = 15
USER = "reader"
PASSWORD = "report-test-password"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStore]:
    """A chDB store holding 30 minutes of demo traffic that ended now."""
    opened = ChdbStore(tmp_path_factory.mktemp("report"))
    migrate(opened)
    parts: dict[str, list[TableRows]] = {}
    start_ns = time.time_ns() - MINUTES * 60 * 10**9
    for request in generate_demo(
        seed=5,
        minutes=MINUTES,
        sessions_per_minute=SESSIONS_PER_MINUTE,
        start_ns=start_ns,
        sessions_per_request=50,
    ):
        for batch in encode_request(request).batches:
            parts.setdefault(batch.table, []).append(batch.to_rows())
    for table_parts in parts.values():
        opened.insert(TableRows.concat(table_parts))
    yield opened
    opened.close()


@dataclass
class _Result:
    result_rows: Sequence[Sequence[Any]]


class StoreClient:
    """The report's client interface straight on the store (no HTTP in between)."""

    def __init__(self, store: ChdbStore) -> None:
        self._store = store

    def query(self, query: str) -> _Result:
        return _Result(self._store.rows(query))


@pytest.fixture(scope="module")
def query_endpoint(store: ChdbStore) -> Iterator[str]:
    """The ClickHouse-HTTP query endpoint over the store, on a loop in a thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[web.AppRunner, int]:
        runner = web.AppRunner(create_query_app(store, user=USER, password=PASSWORD))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None)
        assert sockets
        return runner, int(sockets[0].getsockname()[1])

    runner, port = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture(scope="module")
def reader(query_endpoint: str) -> Iterator[Any]:
    host, port = query_endpoint.removeprefix("http://").rsplit(":", 1)
    client = clickhouse_connect.get_client(
        host=host, port=int(port), username=USER, password=PASSWORD
    )
    yield client
    client.close()


@pytest.fixture(scope="module", params=["clickhouse-connect", "store"])
def report(request: pytest.FixtureRequest, store: ChdbStore) -> Report:
    if request.param == "store":
        return build_report(StoreClient(store), since_minutes=MINUTES + 5)
    return build_report(request.getfixturevalue("reader"), since_minutes=MINUTES + 5)


def test_the_1_2_9_lcp_regression_on_results_shows(report: Report) -> None:
    old = report.p75(REGRESSION.app, REGRESSION.route, "LCP", REGRESSION.baseline_release)
    new = report.p75(REGRESSION.app, REGRESSION.route, "LCP", REGRESSION.release)
    assert old is not None and new is not None
    assert new > 1.3 * old
    flagged = [(r.app, r.route, r.vital, r.baseline_release, r.release) for r in report.regressions]
    assert (
        REGRESSION.app,
        REGRESSION.route,
        "LCP",
        REGRESSION.baseline_release,
        REGRESSION.release,
    ) in flagged
    # a planted regression, not noise: it is the largest one
    assert report.regressions[0].route == REGRESSION.route


def test_quantiles_are_ordered(report: Report) -> None:
    stats = [*report.vitals, *report.vitals_by_release]
    assert {s.name for s in report.vitals} == {"LCP", "INP", "CLS", "FCP", "TTFB"}
    for s in stats:
        q = s.quantiles
        assert 0 <= q.p50 <= q.p75 <= q.p95 <= q.p99, s
        assert 0 <= s.good_share <= 1 and 0 <= s.poor_share <= 1
    for e in report.endpoints:
        q = e.quantiles
        assert 0 < q.p50 <= q.p75 <= q.p95 <= q.p99, e


def test_error_rates_are_shares(report: Report) -> None:
    assert report.route_errors
    for r in report.route_errors:
        assert 0 <= r.error_rate <= 1, r
        assert r.error_sessions <= max(r.sessions, r.error_sessions)
    for e in report.endpoints:
        assert 0 <= e.error_share <= 1
    assert any(r.errors > 0 for r in report.route_errors)


def test_the_spiking_error_is_new_in_1_2_9(report: Report) -> None:
    spike = [g for g in report.top_errors if g.message == SPIKING_ERROR.message]
    assert len(spike) == 1
    rates = spike[0].per_1k_views_by_release
    assert rates.get(REGRESSION.release, 0) > 0
    assert rates.get(REGRESSION.baseline_release, 0) == 0


def test_the_slowest_endpoint_comes_first(report: Report) -> None:
    assert report.endpoints[0].url_template == "/api/recommendations"
    p95s = [e.quantiles.p95 for e in report.endpoints]
    assert p95s == sorted(p95s, reverse=True)
    assert report.endpoints[0].error_share > 0


def test_render_shows_the_regression(report: Report) -> None:
    console = Console(record=True, width=200, color_system=None)
    render_report(report, console)
    text = console.export_text()
    for expected in (
        "Web vitals p75 by route",
        "Regressions",
        "/results",
        "1.2.9",
        "Slowest API endpoints",
        "GET /api/recommendations",
        "Top errors",
    ):
        assert expected in text


def test_app_filter_and_empty_window(store: ChdbStore) -> None:
    client = StoreClient(store)
    docs = build_report(client, app="docs-site", since_minutes=MINUTES + 5)
    assert docs.vitals and {s.app for s in docs.vitals} == {"docs-site"}
    assert {e.app for e in docs.endpoints} <= {"docs-site"}
    nothing = build_report(client, app="no-such-app")
    assert nothing.empty
    console = Console(record=True, width=120, color_system=None)
    render_report(nothing, console)
    assert "No data" in console.export_text()


def test_sampled_app_is_weighted(store: ChdbStore) -> None:
    """docs-site keeps half its sessions (sample rate 0.5): weights are twice the rows."""
    rows = (
        StoreClient(store)
        .query(vitals_sql(Filters(since_minutes=MINUTES + 5, app="docs-site"), by_release=False))
        .result_rows
    )
    for _, _, _, _, samples, weight, *_ in rows:
        assert weight == pytest.approx(2 * samples)


def _lcp(release: str, samples: int, p50: float, p75: float, p95: float) -> VitalStat:
    return VitalStat(
        "a",
        "/r",
        release,
        "LCP",
        samples,
        float(samples),
        0.5,
        0.1,
        Quantiles(p50, p75, p95, p95 * 1.2),
    )


def test_regressions_need_size_and_significance() -> None:
    before = _lcp("1.0.9", 400, 1000, 1400, 2600)
    after = _lcp("1.0.10", 400, 1300, 1820, 3000)  # +30% on a wide distribution
    # significant with 400 samples; releases order by number (1.0.10 after 1.0.9), not text
    for stats in ([before, after], [after, before]):
        assert [(r.baseline_release, r.release) for r in find_regressions(stats)] == [
            ("1.0.9", "1.0.10")
        ]
    # the same change with 45 samples is within the noise
    assert find_regressions([before, _lcp("1.0.10", 45, 1300, 1820, 3000)]) == []
    # too few samples, too small a change, an improvement
    assert find_regressions([before, _lcp("1.0.10", 30, 2000, 3000, 5000)]) == []
    assert find_regressions([before, _lcp("1.0.10", 400, 1100, 1500, 2700)]) == []
    assert (
        find_regressions(
            [_lcp("1.0.9", 400, 1300, 1820, 3000), _lcp("1.0.10", 400, 1000, 1400, 2600)]
        )
        == []
    )


def test_literals_are_quoted() -> None:
    assert quote("it's") == "'it\\'s'"
    assert "app = 'a\\\\b'" in Filters(since_minutes=5, app="a\\b").where()
    with pytest.raises(ValueError):
        Filters(since_minutes=0)


def _close_output(process: Any) -> None:
    """ServeProcess.stop() leaves the stdout pipe to the garbage collector, a ResourceWarning
    (an error here): wait for its reader thread to reach EOF, then close the pipe."""
    for thread in threading.enumerate():
        if thread.name.endswith("(_drain)"):
            thread.join(10)
    if process is not None and process.stdout is not None:
        process.stdout.close()


def test_demo_to_serve_to_report(tmp_path: Path) -> None:
    """End to end: `send_demo` to a real `vitalsight serve`, `build_report` from its query
    endpoint."""
    server = ServeProcess(tmp_path / "data").start()
    process = server._proc
    try:
        summary = send_demo(server.http_url, seed=9, minutes=6, sessions_per_minute=20)
        assert summary.events > 0 and summary.rejected == 0
        stored = server.wait_for_count("otel_logs", summary.log_records, timeout_s=30)
        assert stored == summary.log_records
        server.wait_for_count("rum_requests", summary.spans, timeout_s=30)
        client = server.client()
        try:
            result = build_report(client, since_minutes=10)
        finally:
            client.close()
    finally:
        server.stop()
        _close_output(process)
    assert {s.app for s in result.vitals} == {"shop-web", "docs-site"}
    assert result.endpoints and result.route_errors
