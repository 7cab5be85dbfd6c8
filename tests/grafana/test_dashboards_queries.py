"""Every dashboard query, expanded as Grafana's ClickHouse datasource expands it, runs on
seeded data through `vitalsight serve`'s query endpoint and returns sensible values:
ordered percentiles, shares summing to 1, weighted counts matching the raw facts, and the
demo's planted 1.2.9 LCP regression on /results visible in Release comparison."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.grafana.dashboards_queries import ALL, DashboardRunner, PanelQuery, all_queries
from tests.grafana.dashboards_seed import seed
from tests.serve_process import ServeProcess
from vitalsight.grafana.dashboards import all_dashboards
from vitalsight.grafana.macros import VariableValue
from vitalsight.service.demo import REGRESSION, SPIKING_ERROR

DASHBOARDS = all_dashboards()
RANGE = timedelta(minutes=90)  # the seeded 180 minutes also fill the previous period
INTERVAL_S = 300
# Panels empty until a row's link selects something (a session, a trace).
EMPTY_UNTIL_SELECTED = {"sessions: Session timeline", "sessions: Trace"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, datetime]]:
    """One `vitalsight serve` with 3 hours of demo traffic and insight cards."""
    serve = ServeProcess(tmp_path_factory.mktemp("dashboards")).start()
    try:
        now_ns = time.time_ns()
        seed(serve, now_ns=now_ns)
        client = serve.client()
        yield client, datetime.fromtimestamp(now_ns / 1e9, UTC)
        client.close()
    finally:
        serve.stop()


@pytest.fixture(scope="module")
def runners(seeded: tuple[Any, datetime]) -> dict[str, DashboardRunner]:
    client, now = seeded
    return {
        stem: DashboardRunner(
            client, stem, model, time_from=now - RANGE, time_to=now, interval_s=INTERVAL_S
        )
        for stem, model in DASHBOARDS.items()
    }


@pytest.fixture(scope="module")
def comparison(runners: dict[str, DashboardRunner]) -> DashboardRunner:
    runner = runners["release_comparison"]
    runner.variables.update(
        baseline=REGRESSION.baseline_release, release=REGRESSION.release, app=[REGRESSION.app]
    )
    return runner


@pytest.mark.parametrize("apps", [ALL, [REGRESSION.app]], ids=["all apps", "one app"])
def test_release_comparison_defaults_to_the_newest_release_and_the_one_before(
    seeded: tuple[Any, datetime], apps: VariableValue
) -> None:
    client, now = seeded
    runner = DashboardRunner(
        client,
        "release_comparison",
        DASHBOARDS["release_comparison"],
        time_from=now - RANGE,
        time_to=now,
        interval_s=INTERVAL_S,
        app=apps,
    )
    assert runner.variables["release"] == REGRESSION.release
    # docs-site's 3.4.0 is as old, but the baseline comes from the candidate's app
    assert runner.variables["baseline"] == REGRESSION.baseline_release
    assert REGRESSION.release not in runner.options["baseline"]


@pytest.mark.parametrize("query", all_queries(DASHBOARDS), ids=lambda q: q.name)
def test_every_query_runs_and_returns_rows(
    query: PanelQuery, runners: dict[str, DashboardRunner]
) -> None:
    rows = runners[query.dashboard].run(query)
    if query.name in EMPTY_UNTIL_SELECTED:
        assert rows == []
    else:
        assert rows, query.name


def test_queries_run_with_multi_value_selections(runners: dict[str, DashboardRunner]) -> None:
    selection = {"app": [REGRESSION.app], "device": ["mobile", "desktop"], "browser": ["Chrome"]}
    for stem, runner in runners.items():
        for query in all_queries({stem: DASHBOARDS[stem]}):
            used = {k: v for k, v in selection.items() if k in runner.variables}
            runner.run(query, **used)  # raises on a bad expansion or SQL
    overview = runners["overview"]
    narrowed = overview.records("Page views", **selection)[0]["page_views"]
    assert 0 < narrowed < overview.records("Page views")[0]["page_views"]
    for row in overview.records("p75 over time", **selection):
        assert row["p75"] > 0


def test_all_matches_everything_and_a_selection_narrows(
    runners: dict[str, DashboardRunner],
) -> None:
    overview = runners["overview"]
    total = overview.records("Page views")[0]["page_views"]
    per_app = [
        overview.records("Page views", app=[app])[0]["page_views"]
        for app in overview.options["app"]
    ]
    assert len(per_app) == 2 and all(v > 0 for v in per_app)
    assert sum(per_app) == pytest.approx(total)
    both = overview.records("Page views", app=overview.options["app"])[0]["page_views"]
    assert both == pytest.approx(total)


def test_weighted_page_views_match_the_raw_facts(
    seeded: tuple[Any, datetime], runners: dict[str, DashboardRunner]
) -> None:
    client, now = seeded
    start = int((now - RANGE).timestamp())
    end = int(now.timestamp())
    raw = client.query(
        "SELECT sum(1 / sample_rate), count() FROM rum_page_views"
        f" WHERE toStartOfMinute(timestamp) >= toDateTime({start})"
        f" AND toStartOfMinute(timestamp) <= toDateTime({end})"
    ).result_rows[0]
    views = runners["overview"].records("Page views")[0]["page_views"]
    assert views == pytest.approx(raw[0])
    assert views > raw[1]  # docs-site is sampled: weights exceed the kept rows


def test_percentiles_are_ordered(runners: dict[str, DashboardRunner]) -> None:
    bands = runners["performance_distribution"].records(
        "${vital} percentiles (p50 / p75 / p95 / p99)"
    )
    assert len(bands) >= RANGE.total_seconds() // INTERVAL_S
    for row in bands:
        assert 0 < row["p50"] <= row["p75"] <= row["p95"] <= row["p99"], row
    routes = runners["routes"].records("Routes")
    assert sum(row["lcp_p75"] is not None for row in routes) >= 5
    for row in routes:
        if row["lcp_p75"] is not None:  # a route may have had no LCP in the range
            assert row["lcp_p75"] <= row["lcp_p95"], row
        if row["inp_p75"] is not None:
            assert row["inp_p75"] <= row["inp_p95"], row
    for row in runners["api_performance"].records("Slowest endpoints"):
        assert 0 < row["p50"] <= row["p95"] <= row["p99"], row
        assert 0 <= row["error_share"] <= 1


def test_rating_shares_sum_to_one(runners: dict[str, DashboardRunner]) -> None:
    shares = runners["overview"].records("Rating shares")
    assert [row["vital"] for row in shares] == ["LCP", "INP", "CLS", "TTFB", "FCP"]
    over_time = runners["performance_distribution"].records("${vital} rating shares", vital="INP")
    for row in [*shares, *over_time]:
        assert row["good"] + row["needs_improvement"] + row["poor"] == pytest.approx(1), row
        assert min(row["good"], row["needs_improvement"], row["poor"]) >= 0


def test_overview_stats_are_plausible(runners: dict[str, DashboardRunner]) -> None:
    overview = runners["overview"]
    lcp = overview.records("p75 LCP")[0]["p75"]
    cls = overview.records("p75 CLS")[0]["p75"]
    assert 500 < lcp < 6000 and 0 <= cls < 1
    assert 0 < overview.records("Errors per page view")[0]["errors_per_view"] < 0.5
    assert 0 < overview.records("Slow API share")[0]["slow_share"] < 1
    assert overview.records("Open AI insights")[0]["open_insights"] == 1


def test_the_regression_shows_in_release_comparison(comparison: DashboardRunner) -> None:
    vitals = {row["vital"]: row for row in comparison.records("Web vitals")}
    lcp = vitals["LCP"]
    assert lcp["candidate_p75"] > lcp["baseline_p75"] * 1.15
    assert lcp["candidate_good_share"] < lcp["baseline_good_share"]
    assert lcp["p_value"] < 0.05 and lcp["significant"] == "yes"
    for row in vitals.values():
        for side in ("baseline", "candidate"):
            assert row[f"{side}_p50"] <= row[f"{side}_p75"] <= row[f"{side}_p95"], row
    routes = comparison.records("${vital} p75 by route", vital="LCP")
    assert routes[0]["route"] == REGRESSION.route
    assert routes[0]["p75_change"] > 0.5


def test_release_comparison_shows_errors_bundles_and_endpoints(
    comparison: DashboardRunner,
) -> None:
    errors = comparison.records("Errors per page view")[0]
    assert errors["candidate_errors_per_view"] > errors["baseline_errors_per_view"]
    assert 0 <= errors["p_value"] <= 1
    sizes = {row["resource"]: row for row in comparison.records("Resource sizes (decoded)")}
    assert sizes["/static/app.js"]["change_bytes"] > 0  # 1.2.9 ships a bigger bundle
    assert sizes["/static/vendor.js"]["change_bytes"] == 0
    endpoints = comparison.records("Slowest endpoints")
    assert endpoints[0]["url_template"] == "/api/recommendations"


def test_routes_show_volume_error_rate_and_trend(runners: dict[str, DashboardRunner]) -> None:
    rows = runners["routes"].records("Routes")
    views = [row["views"] for row in rows]
    assert views == sorted(views, reverse=True) and views[0] > 0
    for row in rows:
        assert 0 <= row["error_rate"] < 1, row
    trends = [row["views_trend"] for row in rows if row["views_trend"] is not None]
    assert trends and all(-1 <= t < 5 for t in trends)
    results = next(row for row in rows if row["route"] == REGRESSION.route)
    assert results["lcp_p75_trend"] is not None and not math.isnan(results["lcp_p75_trend"])


def test_errors_group_by_fingerprint_and_drill_to_stacks(
    runners: dict[str, DashboardRunner],
) -> None:
    errors = runners["errors"]
    groups = errors.records("Errors by fingerprint")
    spike = next(g for g in groups if g["message"] == SPIKING_ERROR.message)
    assert spike["releases"] == REGRESSION.release and spike["routes"] == REGRESSION.route
    assert spike["first_seen"] <= spike["last_seen"]
    assert 0 < spike["impacted_sessions"] <= spike["occurrences"]
    occurrences = errors.records(
        "Occurrences (selected fingerprint, or all)", fingerprint=spike["fingerprint"]
    )
    assert occurrences and {o["fingerprint"] for o in occurrences} == {spike["fingerprint"]}
    assert all(SPIKING_ERROR.stack_frame in o["stack"] for o in occurrences)
    assert all(o["session_id"] for o in occurrences)


def test_a_session_and_its_trace_drill_down(runners: dict[str, DashboardRunner]) -> None:
    sessions = runners["sessions"]
    listed = sessions.records("Recent sessions (last hour of the range)")
    busiest = max(listed, key=lambda s: s["page_views"])
    timeline = sessions.records("Session timeline", session_id=busiest["session_id"])
    kinds = {row["kind"] for row in timeline}
    assert {"page view", "vital"} <= kinds
    assert sum(row["kind"] == "page view" for row in timeline) == busiest["page_views"]
    times = [row["time"] for row in timeline]
    assert times == sorted(times)
    traced = [row for row in timeline if row["kind"] == "request" and row["trace_id"]]
    if not traced:  # not every session calls an API; pick one that does
        traced = [
            row
            for session in listed
            for row in sessions.records("Session timeline", session_id=session["session_id"])
            if row["kind"] == "request" and row["trace_id"]
        ]
    trace_id = traced[0]["trace_id"]
    spans = sessions.records("Trace", trace_id=trace_id)
    assert spans and {s["traceID"] for s in spans} == {trace_id}
    assert all(s["duration"] >= 0 and s["serviceName"] for s in spans)


def test_api_performance_status_codes_and_routes(runners: dict[str, DashboardRunner]) -> None:
    api = runners["api_performance"]
    endpoints = api.records("Slowest endpoints")
    assert endpoints[0]["url_template"] == "/api/recommendations"
    status = api.records("Status codes over time")
    assert sum(row["2xx"] for row in status) > 0
    assert all(min(row[c] for c in ("failed", "2xx", "3xx", "4xx", "5xx")) >= 0 for row in status)
    slowed = api.records("Routes each endpoint slows", endpoint="/api/recommendations")
    assert slowed and {row["url_template"] for row in slowed} == {"/api/recommendations"}
    assert all(row["calls_per_view"] > 0 and row["wait_per_view_ms"] > 0 for row in slowed)


def test_ai_insight_cards_read_the_latest_state(runners: dict[str, DashboardRunner]) -> None:
    cards = {row["id"]: row for row in runners["ai_insights"].records("Incident cards")}
    assert set(cards) == {"card-open", "card-resolved"}
    assert cards["card-resolved"]["status"] == "resolved"
    assert cards["card-resolved"]["resolved_at"] is not None
    assert cards["card-open"]["status"] == "open" and cards["card-open"]["resolved_at"] is None
    overview = runners["overview"]
    (annotations,) = [
        q for q in all_queries({"overview": DASHBOARDS["overview"]}) if q.kind == "annotation"
    ]
    assert len(overview.run(annotations)) == 2


# --- hourly/daily rollups against per-minute ones ------------------------------------------

COARSE_TOLERANCE = 0.03
SERIES_TOLERANCE = 0.05
"""Percentiles from the coarse rollups' histograms (values as 2%-wide bucket centres) and
from raw values agree within 3%, except in groups of a few samples, where a weighted t-digest
may then interpolate between other neighbouring samples: there every percentile agrees
within SMALL_GROUP_TOLERANCE, and at least COARSE_AGREEING of them within 3%. Counts, sums
and shares agree exactly (to float rounding). A relative change of two percentiles
(`*_change`, `*_trend`) is compared in absolute terms."""
SMALL_GROUP_TOLERANCE = 0.25
# Series read hourly rollups with 5%-wide buckets (each row read as the mean of its values):
# their percentiles count as agreeing within SERIES_TOLERANCE instead of 3%, and in a group of
# a handful of samples, where two values in one bucket become one heavier row, the t-digest's
# interpolation to a far neighbour can move more: within SERIES_SMALL_GROUP_TOLERANCE.
SERIES_SMALL_GROUP_TOLERANCE = 0.5
COARSE_AGREEING = 0.95
COARSE_RANGES = {
    # > 2 days: hourly rows (today is not a whole day inside the range); a minute ahead,
    # so that the raw facts' exact time filter keeps the last second's rows, as hours do
    "hourly": (timedelta(days=3), timedelta(minutes=1)),
    # ending 2 days ahead: today's data is a whole day inside the range, read from daily rows
    "daily": (timedelta(days=3), timedelta(days=2)),
}
_PERCENTILE = re.compile(r"(^|_)p\d\d($|_)|_change$|_trend$|^wait_per_view_ms$")


def _close(column: str, coarse: float, fine: float, tolerance: float) -> bool:
    if math.isnan(coarse) or math.isnan(fine):
        return math.isnan(coarse) and math.isnan(fine)
    change = column.endswith(("_change", "_trend"))
    return math.isclose(coarse, fine, rel_tol=tolerance, abs_tol=2 * tolerance if change else 0)


_FINE_TABLES = re.compile(r"\bFROM (rum_(?:vitals|requests|resources))\b(?!_)")
_COARSE_TABLES = re.compile(
    r"\bFROM (rum_(?:vitals|requests|resources)(?:_series|_totals)?_1[hd])\b"
)


def _without(tables: re.Pattern[str], statement: str) -> str:
    """`statement` with these tables read as empty: a branch that reads them shows up."""
    emptied, count = tables.subn(r"FROM (SELECT * FROM \1 WHERE 0)", statement)
    assert count, statement
    return emptied


def _keyed(rows: Any) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Rows by their non-float cells (names, times, counts), so order does not matter."""
    return {tuple(c for c in row if not isinstance(c, float)): tuple(row) for row in rows}


@pytest.mark.parametrize("level", sorted(COARSE_RANGES))
def test_coarse_rollups_agree_with_per_minute_ones(
    seeded: tuple[Any, datetime], level: str
) -> None:
    """On a range longer than 2 days with the filters on "All", panels read the hourly and
    daily rollups; selecting every browser explicitly sends them to the raw facts.
    Both give the same rows and values, percentiles within the tolerances above."""
    client, now = seeded
    back, ahead = COARSE_RANGES[level]
    compared = set()
    percentiles = agreeing = 0
    for stem, model in DASHBOARDS.items():
        runner = DashboardRunner(
            client, stem, model, time_from=now - back, time_to=now + ahead, interval_s=3600
        )
        if stem == "release_comparison":
            runner.variables.update(
                baseline=REGRESSION.baseline_release, release=REGRESSION.release
            )
        every_browser = {"browser": runner.options.get("browser", [])}
        for query in all_queries({stem: model}):
            if "_1h" not in query.raw_sql:
                continue
            # each branch alone: the other one's tables read as empty
            coarse = client.query(_without(_FINE_TABLES, runner.expanded(query)))
            fine = client.query(_without(_COARSE_TABLES, runner.expanded(query, **every_browser)))
            assert fine.result_rows, query.name
            assert len(coarse.result_rows) == len(fine.result_rows), query.name
            coarse_rows, fine_rows = _keyed(coarse.result_rows), _keyed(fine.result_rows)
            assert coarse_rows.keys() == fine_rows.keys(), query.name
            for key, row in fine_rows.items():
                for column, c, f in zip(fine.column_names, coarse_rows[key], row, strict=True):
                    where = (level, query.name, key, column, c, f)
                    if not isinstance(f, float):
                        assert c == f, where
                    elif _PERCENTILE.search(column):
                        series = "_series_1h" in query.raw_sql
                        small = SERIES_SMALL_GROUP_TOLERANCE if series else SMALL_GROUP_TOLERANCE
                        assert _close(column, c, f, small), where
                        percentiles += 1
                        tolerance = SERIES_TOLERANCE if series else COARSE_TOLERANCE
                        agreeing += _close(column, c, f, tolerance)
                    else:
                        assert _close(column, c, f, 1e-9), where
            compared.add(query.name)
    assert len(compared) >= 15, compared
    assert agreeing >= COARSE_AGREEING * percentiles, (agreeing, percentiles)
