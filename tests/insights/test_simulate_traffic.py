"""The traffic generator: real OTLP, deterministic, incidents only where they are planted."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from tests.insights.simulate_helpers import Row, rows, small_scenario

from vitalsight.insights.simulate.traffic import generate, period
from vitalsight.service.demo_send import encode_request

END = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
ROLLOUT = END - timedelta(minutes=60)


def _rows(**changes: object) -> list[Row]:
    return list(rows(generate(small_scenario(**changes), END)))


def test_same_seed_and_end_give_the_same_bytes() -> None:
    scenario = small_scenario(days=0.02, evaluate={"start": "-10m"})
    first = [encode_request(r) for r in generate(scenario, END)]
    assert first == [encode_request(r) for r in generate(scenario, END)]
    other = small_scenario(days=0.02, seed=4, evaluate={"start": "-10m"})
    assert first != [encode_request(r) for r in generate(other, END)]


def test_records_stay_inside_the_period_and_carry_the_sdk_context() -> None:
    start, end = period(small_scenario(), END)
    all_rows = _rows()
    assert all(start.timestamp() * 1e9 <= r.time_ns < end.timestamp() * 1e9 for r in all_rows)
    kinds = {r.kind for r in all_rows}
    assert {"browser.page_view", "browser.web_vital", "browser.resource.timing", "span"} <= kinds
    vital = next(r for r in all_rows if r.kind == "browser.web_vital")
    for key in (
        "service.name",
        "service.version",
        "session.id",
        "device.type",
        "geo.country.iso_code",
        "browser.page.route",
        "vitalsight.sample_rate",
    ):
        assert key in vital.attributes
    assert vital.attributes["service.name"] == "small-app"


def test_slow_endpoint_slows_its_calls_and_the_lcp_waiting_on_it_only_in_the_release() -> None:
    all_rows = _rows()

    def median(kind_filter: str, release: str, route: str, after: bool) -> float:
        values = [
            r.duration_ms if r.kind == "span" else r.attributes["browser.web_vital.value"]
            for r in all_rows
            if (
                r.kind == "span"
                if kind_filter == "span"
                else r.attributes.get("browser.web_vital.name") == kind_filter
            )
            and r.attributes["service.version"] == release
            and r.attributes["browser.page.route"] == route
            and (r.time_ns >= ROLLOUT.timestamp() * 1e9) == after
        ]
        assert len(values) > 30
        return statistics.median(values)

    old, new = median("span", "1.0", "/results", False), median("span", "1.1", "/results", True)
    assert 450 < new - old < 800  # add_ms 600, log-normal around it
    lcp_old, lcp_new = (
        median("LCP", "1.0", "/results", False),
        median("LCP", "1.1", "/results", True),
    )
    assert lcp_new - lcp_old > 400
    home_old, home_new = median("LCP", "1.0", "/", False), median("LCP", "1.1", "/", True)
    assert abs(home_new - home_old) < 0.15 * home_old
    before = {
        r.attributes["service.version"] for r in all_rows if r.time_ns < ROLLOUT.timestamp() * 1e9
    }
    assert before == {"1.0"}


def test_error_spike_hits_only_its_browser_and_release() -> None:
    incident = {
        "name": "e",
        "kind": "error_spike",
        "release": "1.1",
        "where": {"browser": ["Safari"]},
        "error": {"message": "boom", "file": "cart.ts", "line": 88, "rate": 0.5},
    }
    errors = [r for r in _rows(incidents=[incident], expect=[]) if r.kind == "exception"]
    assert len(errors) > 50
    assert {(r.attributes["user_agent.name"], r.attributes["service.version"]) for r in errors} == {
        ("Safari", "1.1")
    }
    assert "cart.ts:88" in errors[0].attributes["exception.stacktrace"]
    assert errors[0].attributes["vitalsight.sample_rate"] == 1


def test_long_tasks_attribute_inp_to_the_script() -> None:
    incident = {
        "name": "lt",
        "kind": "long_tasks",
        "start": "-30m",
        "routes": ["/"],
        "script": "checkout.js",
        "per_view": 2,
    }
    all_rows = _rows(incidents=[incident], expect=[])
    tasks = [
        r
        for r in all_rows
        if r.kind == "browser.long_task"
        and r.attributes["browser.long_task.script_url"].endswith("/checkout.js")
    ]
    assert tasks and {r.attributes["browser.page.route"] for r in tasks} == {"/"}
    inp = [
        r
        for r in all_rows
        if r.attributes.get("browser.web_vital.name") == "INP"
        and r.attributes.get("browser.web_vital.attribution.script_url", "").endswith("checkout.js")
    ]
    assert inp and min(r.time_ns for r in inp) >= (END - timedelta(minutes=30)).timestamp() * 1e9


def test_bundle_growth_shows_in_resource_sizes_from_the_release_on() -> None:
    incident = {
        "name": "b",
        "kind": "bundle_growth",
        "release": "1.1",
        "resource": "app.js",
        "transfer_kb": 500,
    }
    all_rows = _rows(incidents=[incident], expect=[])
    sizes = {
        r.attributes["service.version"]: r.attributes["browser.resource.encoded_body_size"]
        for r in all_rows
        if r.kind == "browser.resource.timing"
    }
    assert sizes == {"1.0": 150 * 1024, "1.1": 500 * 1024}


def test_daily_seasonality_shapes_traffic() -> None:
    scenario = small_scenario(
        days=1,
        incidents=[],
        expect=[],
        evaluate={"start": "-1h"},
        traffic={"page_views_per_minute": 4, "daily_amplitude": 0.8, "peak_hour_utc": 14},
    )
    per_hour = [0] * 24
    for r in rows(generate(scenario, END)):
        if r.kind == "browser.page_view":
            per_hour[datetime.fromtimestamp(r.time_ns / 1e9, UTC).hour] += 1
    assert per_hour[14] > 4 * per_hour[2]
