"""A cohort's own breakdown over real chDB: the traffic-mix check of a one-device card.

Mobile traffic moves from 4g to slower 3g (each network as fast as before) while desktop
gets slower by itself: within mobile that is a mix effect, but the route-wide breakdown,
where 4g rose because of desktop, must not (and does not) call it one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.insights.rum_seed import Cohort, Traffic, minute_floor, send
from tests.serve_process import ServeProcess

from vitalsight.insights.explain.attribution import traffic_mix_shift
from vitalsight.insights.queries import ExplainQueries, Slice

BEFORE_MIN, AFTER_MIN = 10, 5
START = minute_floor(datetime.now(UTC)) - timedelta(minutes=BEFORE_MIN + AFTER_MIN + 5)
CHANGE = START + timedelta(minutes=BEFORE_MIN)
END = CHANGE + timedelta(minutes=AFTER_MIN)


def _flows(mobile_4g: int, mobile_3g: int, desktop_lcp: float, seed: int) -> list[Traffic]:
    mobile = Cohort("mix", "1.0", route="/home", device="mobile")
    return [
        Traffic(mobile, mobile_4g, lcp_median_ms=1800, seed=seed),
        Traffic(replace(mobile, network="3g"), mobile_3g, lcp_median_ms=3000, seed=seed + 1),
        Traffic(Cohort("mix", "1.0", route="/home"), 20, lcp_median_ms=desktop_lcp, seed=seed + 2),
    ]


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    process = ServeProcess(tmp_path_factory.mktemp("cohort")).start()
    try:
        send(process.http_url, _flows(20, 5, 1200, seed=1), START, BEFORE_MIN)
        send(process.http_url, _flows(10, 15, 2000, seed=11), CHANGE, AFTER_MIN)
        expected = 45 * (BEFORE_MIN + AFTER_MIN)
        assert process.wait_for_count("rum_page_views", expected) == expected
        yield process
    finally:
        process.stop()


def _slices(device: str | None) -> tuple[Slice, Slice]:
    now = Slice("mix", "production", "/home", CHANGE, END, device=device)
    return now, Slice("mix", "production", "/home", START, CHANGE, device=device)


def test_a_device_slice_reads_only_that_device(serve: ServeProcess) -> None:
    rows = ExplainQueries(serve.client()).vital_breakdown("LCP", *_slices("mobile"))
    devices = {(r.value, r.samples_now, r.samples_before) for r in rows if r.dimension == "device"}
    assert devices == {("mobile", 25 * AFTER_MIN, 25 * BEFORE_MIN)}
    networks = {
        r.value: (r.samples_now, r.samples_before) for r in rows if r.dimension == "network"
    }
    assert networks == {"4g": (10 * AFTER_MIN, 20 * BEFORE_MIN), "3g": (15 * AFTER_MIN, 50)}


def test_the_mix_shift_is_found_within_the_device_not_route_wide(serve: ServeProcess) -> None:
    queries = ExplainQueries(serve.client())
    confined = queries.vital_breakdown("LCP", *_slices("mobile"))
    route_wide = queries.vital_breakdown("LCP", *_slices(None))
    shift = traffic_mix_shift(confined, min_samples=15, min_change_pct=15.0)
    assert shift is not None and (shift.dimension, shift.value) == ("network", "3g")
    assert shift.share_before == pytest.approx(0.2) and shift.share_now == pytest.approx(0.6)
    assert traffic_mix_shift(route_wide, min_samples=15, min_change_pct=15.0) is None
