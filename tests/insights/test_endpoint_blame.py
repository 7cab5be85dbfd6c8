"""Which slow endpoint gets its own card: the blame and testability rules, on crafted rows.

An endpoint slowdown is its own card only when no vital regression claims it. Only a
regression that can open this cycle, or is open, claims it; and the endpoint waits until the
vitals of the pages calling it (the new release's cohorts, when a new release carries the
slowdown) could be tested.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vitalsight.insights.card import CauseKind, Evidence, IncidentCard, Kind
from vitalsight.insights.detect.percentile_shift import Shift
from vitalsight.insights.engine import EngineSettings
from vitalsight.insights.findings import blamed_endpoints, blaming_cards
from vitalsight.insights.findings.base import Comparison
from vitalsight.insights.findings.endpoints import EndpointFindings
from vitalsight.insights.findings.vitals import VitalFindings
from vitalsight.insights.lifecycle import Finding, incident_key
from vitalsight.insights.queries import CONCURRENT, Filters, Window

NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
SETTINGS = EngineSettings(min_samples=60)


def _regression(route: str, endpoint: str) -> IncidentCard:
    return IncidentCard(
        id="",
        opened_at=NOW,
        updated_at=NOW,
        app="shop",
        kind=Kind.REGRESSION,
        metric="LCP",
        route=route,
        baseline_value=1800,
        current_value=2600,
        change_pct=44,
        cause_kind=CauseKind.SLOW_ENDPOINT,
        evidence=[
            Evidence(
                kind="endpoint_latency",
                subject=endpoint,
                metric="p95_ms",
                before=300,
                after=900,
                unit="ms",
            )
        ],
    )


def _finding(card: IncidentCard, *, strict: bool, holds: bool) -> Finding:
    return Finding(incident_key(card), card, strict, holds)


def test_only_a_regression_that_can_open_or_is_open_claims_an_endpoint() -> None:
    passing = _finding(_regression("/product", "/api/recs"), strict=True, holds=False)
    opening = _finding(_regression("/results", "/api/search"), strict=True, holds=True)
    kept_open = _finding(_regression("/cart", "/api/cart"), strict=False, holds=True)
    cards = blaming_cards([passing, opening, kept_open], lambda key: key == kept_open.key)
    # a strict rise the latest minutes no longer show never opens: it cannot claim /api/recs
    assert blamed_endpoints(cards) == {"/api/search", "/api/cart"}


def _window(
    route: str, dimension: str, value: str, series: str, samples: int, *, period: str = "w10"
) -> Window:
    return Window(
        app="shop",
        environment="production",
        route=route,
        dimension=dimension,
        value=value,
        series=series,
        period=period,
        samples=samples,
        weight=float(samples),
        q50=200.0,
        q75=250.0,
        q95=400.0,
    )


def test_a_vital_cohort_is_testable_once_some_window_holds_min_samples() -> None:
    vitals = VitalFindings(None, Filters("shop", None), SETTINGS)
    vitals.windows = [
        _window("/a", "release", "4.1", "LCP", 30, period="w5"),
        _window("/a", "release", "4.1", "LCP", 59, period="w30"),
        _window("/b", "release", "4.1", "LCP", 61, period="w30"),
        _window("/b", "release", "4.1", "INP", 500, period="w30"),
    ]
    testable = vitals.testable(("LCP", "FCP"))
    assert not testable(("shop", "production", "/a", "release", "4.1"))
    assert testable(("shop", "production", "/b", "release", "4.1"))
    # a release /a has no LCP from yet cannot be tested either...
    assert not testable(("shop", "production", "/a", "release", "4.2"))
    # ...but a page that never reports these vitals is not waited for
    assert testable(("shop", "production", "/c", "", ""))


def _release_row(release: str, q75: float, samples: int, period: str = "w5") -> Window:
    row = _window("", "release", release, "/api/items", samples, period=period)
    return Window(**{**row.__dict__, "q75": q75})


def _first_seen(release: str, minutes_ago: int) -> Window:
    row = _window("", "release", release, "/api/items", 500, period=CONCURRENT)
    return Window(**{**row.__dict__, "first_minute": NOW - timedelta(minutes=minutes_ago)})


def _slow_items(window: Window) -> Comparison:
    cohort = ("shop", "production", "", "", "", "/api/items")
    shift = Shift(before=250.0, after=420.0, change_pct=68.0, z=9.0)
    return Comparison(cohort, window, [], shift, strict=True)


def test_the_endpoint_waits_for_the_new_release_that_carries_its_slowdown() -> None:
    endpoints = EndpointFindings(None, Filters("shop", None), SETTINGS)
    app_wide = _window("", "", "", "/api/items", 100, period="w5")
    windows = [
        app_wide,
        _window("/a", "", "", "/api/items", 50, period="w5"),
        _window("/b", "", "", "/api/items", 45, period="w5"),
        _window("/rare", "", "", "/api/items", 5, period="w5"),  # < 10% of the calls
        _release_row("4.0", 255.0, 75),
        _release_row("4.1", 900.0, 25),
    ]
    baselines = [_first_seen("4.0", 170), _first_seen("4.1", 5)]
    callers = endpoints._callers(NOW, _slow_items(app_wide), windows, baselines)
    assert callers == [
        ("shop", "production", "/a", "release", "4.1"),
        ("shop", "production", "/b", "release", "4.1"),
    ]
    # Every release slow alike (or no new one): the slowdown is the endpoint's, the pages'
    # own cohorts are the ones to wait for.
    slow_everywhere = [*windows[:4], _release_row("4.0", 800.0, 75), _release_row("4.1", 900, 25)]
    assert endpoints._callers(NOW, _slow_items(app_wide), slow_everywhere, baselines) == [
        ("shop", "production", "/a", "", ""),
        ("shop", "production", "/b", "", ""),
    ]
    old_only = [_first_seen("4.0", 170), _first_seen("4.1", 175)]
    assert endpoints._callers(NOW, _slow_items(app_wide), windows, old_only)[0][3:] == ("", "")
