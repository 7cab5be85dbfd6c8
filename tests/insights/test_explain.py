"""Attribution, cause correlation, confidence and actions on crafted facts."""

from __future__ import annotations

from vitalsight.insights.card import CauseKind
from vitalsight.insights.explain import causes
from vitalsight.insights.explain.actions import suggested_action
from vitalsight.insights.explain.attribution import scope_of_change, traffic_mix_shift
from vitalsight.insights.explain.confidence import confidence, confidence_label
from vitalsight.insights.queries import Breakdown, Contribution, Window


def _breakdown(dimension: str, value: str, now: float, before: float, n: int = 200) -> Breakdown:
    return Breakdown(dimension, value, n, now, n, before)


def test_scope_names_the_only_values_that_moved() -> None:
    rows = [
        _breakdown("device", "mobile", 2600, 1900),
        _breakdown("device", "desktop", 1510, 1500),
        _breakdown("network", "4g", 2500, 1900),
        _breakdown("network", "wifi", 1500, 1490),
        _breakdown("browser", "Chrome", 2100, 1700),
        _breakdown("browser", "Safari", 2150, 1720),
        _breakdown("country", "DE", 9000, 1000, n=3),  # too little traffic to say anything
    ]
    scope = scope_of_change(rows, min_samples=20, min_change_pct=15)
    assert scope == {"device": "mobile", "network": "4g"}


def test_scope_is_empty_when_everything_moved() -> None:
    rows = [_breakdown("device", d, 2600, 1900) for d in ("mobile", "desktop", "tablet")]
    assert scope_of_change(rows, min_samples=20, min_change_pct=15) == {}


def _window(series: str, q95: float, n: int = 300, q50: float | None = None) -> Window:
    median = q50 if q50 is not None else q95 / 2
    return Window(
        "shop", "prod", "/results", "", "", series, "w5", n, n, median, (median + q95) / 2, q95
    )


def test_slow_endpoint_picks_the_endpoint_that_rose_most_significantly() -> None:
    pairs = [
        (_window("/api/search", 1300, q50=600), _window("/api/search", 880, q50=300)),
        (_window("/api/cart", 420), _window("/api/cart", 400)),
        (_window("/api/tiny", 900, n=4, q50=500), _window("/api/tiny", 300, n=4)),
    ]
    cause = causes.slow_endpoint(pairs)
    assert cause is not None
    assert cause.kind is CauseKind.SLOW_ENDPOINT and cause.subject == "/api/search"
    assert (cause.evidence[0].before, cause.evidence[0].after) == (880, 1300)
    assert "420 ms" in cause.text
    assert causes.slow_endpoint(pairs[1:2]) is None


def test_bundle_growth_names_the_script_by_file_name() -> None:
    sizes = [
        Contribution("https://cdn.example/static/app.js", 528_000, 412_000, 50, 500),
        Contribution("https://cdn.example/static/vendor.js", 301_000, 300_000, 50, 500),
        Contribution("https://cdn.example/static/new.js", 90_000, 0.0, 50, 0),  # no before
    ]
    cause = causes.bundle_growth(sizes)
    assert cause is not None and cause.kind is CauseKind.BUNDLE_GROWTH
    assert cause.subject == "app.js"
    assert cause.text == "app.js grew 28% (412 → 528 KB)"
    assert causes.bundle_growth(sizes[1:]) is None


def test_long_tasks_names_the_script_whose_blocking_rose() -> None:
    scripts = [
        Contribution("https://shop.example/js/checkout.js", 180.0, 20.0, 60, 400),
        Contribution("https://shop.example/js/analytics.js", 32.0, 30.0, 60, 400),
    ]
    cause = causes.long_tasks(scripts)
    assert cause is not None and cause.kind is CauseKind.LONG_TASKS
    assert cause.subject == "checkout.js"
    assert "LoAF" in cause.text
    assert causes.long_tasks(scripts[1:]) is None


def test_confidence_grows_with_effect_volume_and_consistency() -> None:
    weak = confidence(
        z=3.5, min_z=3.5, samples=40, min_samples=40, agreeing=1, compared=1, cause_found=False
    )
    strong = confidence(
        z=9, min_z=3.5, samples=400, min_samples=40, agreeing=2, compared=2, cause_found=True
    )
    split = confidence(
        z=9, min_z=3.5, samples=400, min_samples=40, agreeing=1, compared=2, cause_found=True
    )
    assert weak < split < strong <= 1.0
    assert confidence_label(strong) == "high" and confidence_label(weak) == "medium"
    assert confidence_label(0.2) == "low"


def test_every_cause_kind_has_an_action_naming_its_subject() -> None:
    for kind in CauseKind:
        assert "app.js" in suggested_action(kind, "app.js") or kind is CauseKind.UNKNOWN
    assert "/api/search" in suggested_action(CauseKind.SLOW_ENDPOINT, "/api/search")


def test_traffic_mix_names_the_slow_segment_that_grew() -> None:
    rows = [
        Breakdown("device", "mobile", 600, 3000, 200, 3000),  # slower, share 20% → 60%
        Breakdown("device", "desktop", 400, 1600, 800, 1580),
    ]
    shift = traffic_mix_shift(rows, min_samples=20, min_change_pct=15)
    assert shift is not None
    assert (shift.dimension, shift.value) == ("device", "mobile")
    assert (round(shift.share_before, 2), round(shift.share_now, 2)) == (0.2, 0.6)


def test_no_mix_explanation_when_a_segment_got_slower() -> None:
    rows = [
        Breakdown("device", "mobile", 600, 3900, 200, 3000),
        Breakdown("device", "desktop", 400, 1600, 800, 1580),
    ]
    assert traffic_mix_shift(rows, min_samples=20, min_change_pct=15) is None


def _network(value: str, now: tuple[int, float], before: tuple[int, float]) -> Breakdown:
    """A network value with a realistic spread (q65..q85 at ±15% of q75) on both sides."""
    (n_now, q_now), (n_before, q_before) = now, before
    return Breakdown(
        "network", value, n_now, q_now, n_before, q_before,
        q65_now=0.85 * q_now, q85_now=1.15 * q_now,
        q65_before=0.85 * q_before, q85_before=1.15 * q_before,
    )  # fmt: skip


def test_slower_values_gaining_share_together_are_one_mix_shift() -> None:
    # 3g 9% → 16%, 2g 4% → 10% of the mobile views: neither gains 10 points alone, together
    # they do; 3g's p75 wobbles +9% on 31 rows, which is noise, not 3g getting slower.
    rows = [
        _network("4g", (91, 399), (581, 393)),
        _network("3g", (31, 871), (99, 800)),
        _network("2g", (19, 1926), (41, 1827)),
        _network("", (49, 396), (340, 358)),
    ]
    shift = traffic_mix_shift(rows, min_samples=15, min_change_pct=15)
    assert shift is not None
    assert (shift.dimension, shift.value) == ("network", "2g,3g")
    assert shift.share_now - shift.share_before >= 0.10


def test_a_clear_rise_of_one_value_is_no_mix_effect() -> None:
    rows = [
        _network("4g", (300, 520), (581, 393)),  # 4g itself 32% slower, on 300 rows
        _network("3g", (80, 871), (99, 800)),
        _network("2g", (60, 1926), (41, 1827)),
    ]
    assert traffic_mix_shift(rows, min_samples=15, min_change_pct=15) is None
