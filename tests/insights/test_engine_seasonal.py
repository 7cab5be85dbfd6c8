"""Seasonal baselines on real data: a rise that happens every day at this hour is no incident.

Two apps get the same last three hours (LCP p75 up ~37% in the last 20 minutes, as an evening
peak would); only their same hour yesterday differs. Where yesterday was as slow, the rise is
the daily rhythm and raises nothing; where yesterday was fast, it is a regression.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.insights.rum_seed import Cohort, Traffic, minute_floor, send
from tests.serve_process import ServeProcess

from vitalsight.insights.card import Kind, Status
from vitalsight.insights.engine import EngineSettings, InsightEngine

NOW = minute_floor(datetime.now(UTC)) - timedelta(minutes=5)
RATE = 15
PEAK_MIN = 20


def _flow(app: str, lcp: float, seed: int) -> Traffic:
    return Traffic(Cohort(app, "4.0.0", route="/search"), RATE, lcp_median_ms=lcp, seed=seed)


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = ServeProcess(tmp_path_factory.mktemp("seasonal")).start()
    try:
        yesterday = NOW - timedelta(days=1, minutes=30)
        send(process.http_url, [_flow("daily", 2500, 1), _flow("fresh", 1800, 2)], yesterday, 60)
        recent = NOW - timedelta(minutes=150)
        send(
            process.http_url,
            [_flow("daily", 1800, 3), _flow("fresh", 1800, 4)],
            recent,
            150 - PEAK_MIN,
        )
        peak = NOW - timedelta(minutes=PEAK_MIN)
        send(process.http_url, [_flow("daily", 2500, 5), _flow("fresh", 2500, 6)], peak, PEAK_MIN)
        expected = 2 * (60 + 150) * RATE
        assert process.wait_for_count("rum_page_views", expected) == expected
        yield process
    finally:
        process.stop()


def _cards(serve: ServeProcess, app: str) -> list[Kind]:
    engine = InsightEngine(serve.client(), EngineSettings(app=app))
    kinds = []
    for minute in range(-PEAK_MIN - 2, 1):
        cards = engine.run_cycle(NOW + timedelta(minutes=minute))
        kinds += [card.kind for card in cards if card.status is Status.OPEN]
    return kinds


def test_the_daily_peak_raises_nothing(serve: ServeProcess) -> None:
    assert _cards(serve, "daily") == []


def test_the_same_rise_without_a_daily_precedent_is_a_regression(serve: ServeProcess) -> None:
    assert _cards(serve, "fresh") == [Kind.REGRESSION]
