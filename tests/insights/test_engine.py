"""The engine over real chDB data: crafted traffic → serve → rollups → run_cycle → cards.

One `vitalsight serve` holds one app per situation; each test runs its own engine on its app
minute by minute in simulated time, as the evaluator and the live service do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.insights.rum_seed import Cohort, Traffic, minute_floor, send
from tests.serve_process import ServeProcess

from vitalsight.insights.card import CauseKind, IncidentCard, Kind, Status
from vitalsight.insights.engine import EngineSettings, InsightEngine

HISTORY_MIN = 50  # quiet minutes before each change
CHANGE_MIN = 14  # minutes of changed traffic
FIXED_MIN = 10  # then the INP app is fixed
RATE = 20  # page views per minute per flow
START = minute_floor(datetime.now(UTC)) - timedelta(minutes=HISTORY_MIN + CHANGE_MIN + 20)
CHANGE = START + timedelta(minutes=HISTORY_MIN)
BUNDLE = "https://cdn.example/static/app.js"
GRAFANA = "http://grafana.local:3000"


def _flows_before() -> list[Traffic]:
    return [
        # release regression on /results: /api/search slowed in 1.2.9, plus a new TypeError
        Traffic(Cohort("shop", "1.2.8"), RATE, endpoint="/api/search", seed=1),
        Traffic(Cohort("shop", "1.2.8", route="/home"), RATE, endpoint="/api/home", seed=2),
        # bundle growth in 2.0.0
        Traffic(
            Cohort("bundle", "1.9.0", route="/home", device="mobile"),
            RATE,
            bundle_url=BUNDLE,
            bundle_bytes=412_000,
            seed=3,
        ),
        # INP on /checkout from checkout.js long tasks, no release change
        Traffic(
            Cohort("inp", "3.1.0", route="/checkout"),
            RATE,
            script="https://shop.example/checkout.js",
            long_task_ms=60,
            seed=4,
        ),
        # an endpoint slows down but no page waits on it
        Traffic(Cohort("api", "7.0.0", route="/account"), RATE, endpoint="/api/prefs", seed=7),
        # an endpoint two pages wait on, before its slow release
        *_gate_flows("4.0", 2 * RATE, seed=30),
        # seasonal-free quiet app with noisy traffic and a steady error rate
        Traffic(Cohort("quiet", "5.0.0"), RATE, endpoint="/api/q", error_every=10, seed=5),
        Traffic(Cohort("quiet", "5.0.0", route="/home", device="mobile"), RATE, seed=6),
    ]


def _flows_after() -> list[Traffic]:
    return [
        Traffic(Cohort("shop", "1.2.8"), RATE, endpoint="/api/search", seed=11),
        Traffic(
            Cohort("shop", "1.2.9"),
            RATE,
            lcp_median_ms=2600,
            endpoint="/api/search",
            endpoint_median_ms=650,
            error_every=4,
            error_message="cart is undefined",
            seed=12,
        ),
        Traffic(Cohort("shop", "1.2.8", route="/home"), RATE, endpoint="/api/home", seed=13),
        Traffic(
            Cohort("bundle", "1.9.0", route="/home", device="mobile"),
            RATE,
            bundle_url=BUNDLE,
            bundle_bytes=412_000,
            seed=14,
        ),
        Traffic(
            Cohort("bundle", "2.0.0", route="/home", device="mobile"),
            RATE,
            lcp_median_ms=2500,
            bundle_url=BUNDLE,
            bundle_bytes=528_000,
            seed=15,
        ),
        Traffic(
            Cohort("inp", "3.1.0", route="/checkout"),
            RATE,
            inp_median_ms=260,
            script="https://shop.example/checkout.js",
            long_task_ms=240,
            seed=16,
        ),
        Traffic(
            Cohort("api", "7.0.0", route="/account"),
            RATE,
            endpoint="/api/prefs",
            endpoint_median_ms=700,
            seed=20,
        ),
        Traffic(Cohort("quiet", "5.0.0"), RATE, endpoint="/api/q", error_every=10, seed=17),
        Traffic(Cohort("quiet", "5.0.0", route="/home", device="mobile"), RATE, seed=18),
        # release 4.1 slows /api/items, which /a and /b wait on, on a quarter of their traffic
        *_gate_flows("4.0", 2 * RATE, seed=40),
        *_gate_flows("4.1", RATE // 2, seed=50, endpoint_ms=700, lcp_ms=2600),
    ]


def _gate_flows(
    release: str, rate: int, *, seed: int, endpoint_ms: float = 200, lcp_ms: float = 1800
) -> list[Traffic]:
    return [
        Traffic(
            Cohort("gate", release, route=route),
            rate,
            lcp_median_ms=lcp_ms,
            endpoint="/api/items",
            endpoint_median_ms=endpoint_ms,
            seed=seed + i,
        )
        for i, route in enumerate(("/a", "/b"))
    ]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = ServeProcess(tmp_path_factory.mktemp("engine")).start()
    try:
        send(process.http_url, _flows_before(), START, HISTORY_MIN)
        send(process.http_url, _flows_after(), CHANGE, CHANGE_MIN)
        fixed = Traffic(
            Cohort("inp", "3.1.0", route="/checkout"),
            RATE,
            script="https://shop.example/checkout.js",
            long_task_ms=60,
            seed=19,
        )
        send(process.http_url, [fixed], CHANGE + timedelta(minutes=CHANGE_MIN), FIXED_MIN)
        expected = (11 * HISTORY_MIN + 14 * CHANGE_MIN + FIXED_MIN) * RATE
        assert process.wait_for_count("rum_page_views", expected) == expected
        yield process
    finally:
        process.stop()


def _replay(serve: ServeProcess, app: str, first: int, last: int) -> list[tuple[int, IncidentCard]]:
    """(minute relative to the change, card) for every card of cycles first..last."""
    settings = EngineSettings(app=app, resolve_after_minutes=5, grafana_url=GRAFANA)
    engine = InsightEngine(serve.client(), settings)
    cards = []
    for minute in range(first, last + 1):
        cards += [(minute, card) for card in engine.run_cycle(CHANGE + timedelta(minutes=minute))]
    return cards


def _opened(
    cards: list[tuple[int, IncidentCard]],
) -> dict[tuple[Kind, str], tuple[int, IncidentCard]]:
    opened = [(m, c) for m, c in cards if c.status is Status.OPEN]
    assert len({c.id for _, c in opened}) == len(opened)  # one open card per incident
    return {(c.kind, c.metric): (m, c) for m, c in opened}


def test_release_regression_blames_the_slow_endpoint_within_two_minutes(
    seeded: ServeProcess,
) -> None:
    cards = _replay(seeded, "shop", -10, 8)
    opened = _opened(cards)
    assert set(opened) == {(Kind.REGRESSION, "LCP"), (Kind.ERROR_SPIKE, "error_rate")}
    minute, card = opened[(Kind.REGRESSION, "LCP")]
    # The new release's cohort reaches min_samples (60) after 3 minutes at 20 per minute.
    assert 0 < minute <= 3 + 2
    assert (card.route, card.release, card.baseline_release) == ("/results", "1.2.9", "1.2.8")
    assert card.cause_kind is CauseKind.SLOW_ENDPOINT
    assert card.evidence[0].subject == "/api/search" and card.evidence[0].after > 500
    assert 25 < card.change_pct < 70
    assert card.summary.startswith("p75 LCP on /results rose")
    assert "/api/search" in card.summary
    assert card.confidence_label in ("medium", "high") and 0 < card.confidence <= 1
    assert card.dashboard_url.startswith(f"{GRAFANA}/d/vitalsight-release-comparison?var-app=shop")
    assert (
        "var-route=%2Fresults" in card.dashboard_url and "var-release=1.2.9" in card.dashboard_url
    )


def test_new_error_spike_is_placed_on_its_route_and_release(seeded: ServeProcess) -> None:
    minute, card = _opened(_replay(seeded, "shop", -3, 6))[(Kind.ERROR_SPIKE, "error_rate")]
    assert 0 < minute <= 4
    assert (card.route, card.release, card.cause_kind) == ("/results", "1.2.9", CauseKind.NEW_ERROR)
    assert "cart is undefined" in card.evidence[0].subject
    assert card.current_value > card.baseline_value
    assert card.summary.startswith("Error rate on /results")
    change = CHANGE + timedelta(minutes=0)
    assert card.cause.endswith(f" since {change:%H:%M}")  # dated by the change point
    assert card.dashboard_url.startswith(f"{GRAFANA}/d/vitalsight-errors?")


def test_bundle_growth_in_a_new_release(seeded: ServeProcess) -> None:
    opened = _opened(_replay(seeded, "bundle", -2, 6))
    assert set(opened) == {(Kind.REGRESSION, "LCP")}
    _, card = opened[(Kind.REGRESSION, "LCP")]
    assert (card.route, card.release, card.cause_kind) == (
        "/home",
        "2.0.0",
        CauseKind.BUNDLE_GROWTH,
    )
    assert (card.evidence[0].subject, card.evidence[0].before, card.evidence[0].after) == (
        "app.js",
        412,
        528,
    )


def test_inp_regression_correlates_with_long_tasks(seeded: ServeProcess) -> None:
    opened = _opened(_replay(seeded, "inp", -2, 6))
    assert set(opened) == {(Kind.REGRESSION, "INP")}
    minute, card = opened[(Kind.REGRESSION, "INP")]
    assert minute <= 4
    assert (card.route, card.cause_kind) == ("/checkout", CauseKind.LONG_TASKS)
    assert card.evidence[0].subject == "checkout.js"
    assert card.release == ""  # no release changed


def test_resolves_once_the_change_is_gone_and_quiet_data_raises_nothing(
    seeded: ServeProcess,
) -> None:
    # The INP app is fixed after CHANGE_MIN: once recent data is normal again, the incident
    # resolves resolve_after (5) minutes later, while longer windows still hold the change.
    cards = _replay(seeded, "inp", 0, CHANGE_MIN + FIXED_MIN)
    statuses = [(m, c.status) for m, c in cards]
    assert statuses[0][1] is Status.OPEN
    resolved_at = [m for m, status in statuses if status is Status.RESOLVED]
    assert len(resolved_at) == 1 and CHANGE_MIN + 5 <= resolved_at[0] <= CHANGE_MIN + 5 + 3
    assert statuses[-1][1] is Status.RESOLVED
    assert len({c.id for _, c in cards}) == 1
    assert _replay(seeded, "quiet", -30, CHANGE_MIN) == []


def test_an_endpoint_slowdown_nobody_waits_on_is_its_own_card(seeded: ServeProcess) -> None:
    opened = _opened(_replay(seeded, "api", -2, 10))
    assert set(opened) == {(Kind.SLOW_ENDPOINT, "request_p95")}
    minute, card = opened[(Kind.SLOW_ENDPOINT, "request_p95")]
    assert 3 <= minute <= 7  # settles 3 minutes first, so a vital blamed on it comes first
    assert card.scope == {"endpoint": "/api/prefs"}
    assert card.cause_kind is CauseKind.SLOW_ENDPOINT
    assert card.current_value > 2 * card.baseline_value


def test_a_slow_release_endpoint_waits_for_the_pages_that_wait_on_it(
    seeded: ServeProcess,
) -> None:
    # /api/items is slow in release 4.1 only. App-wide its p75 rises within a minute or two
    # (100 calls a minute), while 4.1's LCP on each page holds min_samples (60) only after
    # 6 minutes at 10 a minute. The endpoint's own card waits for those cohorts to be tested:
    # the LCP regressions open and name it, and no second card opens for the endpoint.
    cards = _replay(seeded, "gate", -2, CHANGE_MIN)
    opened = [(m, c) for m, c in cards if c.status is Status.OPEN]
    assert {c.kind for _, c in opened} == {Kind.REGRESSION}, [c.summary for _, c in opened]
    assert sorted(c.route for _, c in opened) == ["/a", "/b"]
    for minute, card in opened:
        assert 6 <= minute <= 6 + 2
        assert (card.metric, card.release, card.baseline_release) == ("LCP", "4.1", "4.0")
        assert card.cause_kind is CauseKind.SLOW_ENDPOINT
        assert card.evidence[0].subject == "/api/items"
