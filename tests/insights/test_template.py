"""The deterministic summary reads like the issue's examples, numbers from the facts."""

from __future__ import annotations

from datetime import UTC, datetime

from vitalsight.insights.card import CauseKind, Evidence, IncidentCard, Kind, Status
from vitalsight.insights.template import format_value, render

AT = datetime(2026, 11, 20, 14, 2, tzinfo=UTC)


def _card(**fields: object) -> IncidentCard:
    base: dict[str, object] = {
        "id": "abc",
        "opened_at": AT,
        "updated_at": AT,
        "app": "shop",
        "kind": Kind.REGRESSION,
        "metric": "LCP",
        "route": "/results",
        "release": "1.2.9",
        "baseline_release": "1.2.8",
        "baseline_value": 1900.0,
        "current_value": 2620.0,
        "change_pct": 37.9,
        "unit": "ms",
        "cause_kind": CauseKind.SLOW_ENDPOINT,
        "cause": "/api/search p95 rose 420 ms and the page waits on it",
        "evidence": [
            Evidence(
                kind="endpoint_latency",
                subject="/api/search",
                metric="p95_ms",
                before=880,
                after=1300,
                unit="ms",
            )
        ],
        "confidence": 0.86,
        "confidence_label": "high",
        "suggested_fix": "Check /api/search's latency on the server.",
    }
    return IncidentCard.model_validate({**base, **fields})


def test_release_regression_with_its_cause() -> None:
    assert render(_card()) == (
        "p75 LCP on /results rose 38% (1.9 s → 2.6 s) in release 1.2.9 (vs 1.2.8), all devices. "
        "Likely cause: /api/search p95 rose 420 ms and the page waits on it. Confidence high. "
        "What to do: Check /api/search's latency on the server."
    )


def test_scoped_regression_says_only() -> None:
    card = _card(
        scope={"device": "mobile", "network": "4g"},
        baseline_release="",
        current_value=2200.0,
        change_pct=15.8,
    )
    assert render(card).startswith(
        "p75 LCP on /results rose 16% (1.9 s → 2.2 s) in release 1.2.9, mobile 4g only."
    )


def test_error_spike_reads_as_a_multiple_with_browser_version() -> None:
    card = _card(
        kind=Kind.ERROR_SPIKE,
        metric="error_rate",
        statistic="rate",
        route="",
        baseline_release="",
        baseline_value=0.004,
        current_value=0.012,
        change_pct=200.0,
        unit="ratio",
        cause_kind=CauseKind.NEW_ERROR,
        cause="one new error fingerprint (TypeError in cart.ts:88)",
        scope={"browser": "Safari", "browser_version": "Safari 17"},
    )
    assert render(card).startswith(
        "Error rate tripled (0.4% → 1.2% of page views) in release 1.2.9, Safari 17 only. "
        "Likely cause: one new error fingerprint (TypeError in cart.ts:88)."
    )


def test_resolved_cards_say_so_and_drop_the_action() -> None:
    text = render(_card(status=Status.RESOLVED))
    assert text.startswith("Resolved: p75 LCP on /results")
    assert "What to do" not in text


def test_value_formats() -> None:
    assert format_value(420, "ms") == "420 ms"
    assert format_value(2620, "ms") == "2.6 s"
    assert format_value(0.123, "score") == "0.12"
    assert format_value(0.0125, "ratio") == "1.2%"
    assert format_value(528, "KB") == "528 KB"
