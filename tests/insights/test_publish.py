"""Cards reach `rum_insights` through a real `vitalsight serve`, intact.

The serve runs the default `scrub` processor and a `sample` processor at a very low rate:
neither may alter or drop a card, since a card carries no user data and no session.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.serve_process import ServeProcess

from vitalsight.insights.card import CauseKind, Evidence, IncidentCard, Kind, Status
from vitalsight.insights.publish import CardPublisher, PublishError

API_KEY = "insights-key"
CONFIG = """
pipeline: [scrub, sample]
processors:
  sample:
    rate: 0.001
    adaptive:
      enabled: false
"""


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("publish")
    config = root / "vitalsight.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    process = ServeProcess(Path(root / "data"), ["--config", str(config), "--api-key", API_KEY])
    yield process.start()
    process.stop()


def _card(status: Status, updated: datetime) -> IncidentCard:
    opened = datetime(2026, 11, 25, 4, 2, tzinfo=UTC)
    return IncidentCard(
        id="card-7f3a",
        status=status,
        opened_at=opened,
        updated_at=updated,
        resolved_at=updated if status is Status.RESOLVED else None,
        app="shop-web",
        environment="production",
        kind=Kind.REGRESSION,
        metric="LCP",
        route="/results",
        release="1.2.9",
        baseline_release="1.2.8",
        scope={"device": "mobile", "network": "4g"},
        baseline_value=1900.0,
        current_value=2620.0,
        change_pct=37.9,
        unit="ms",
        cause_kind=CauseKind.SLOW_ENDPOINT,
        cause="/api/search p95 rose 420 ms",
        evidence=[
            Evidence(
                kind="endpoint_latency",
                subject="/api/search",
                metric="p95_ms",
                before=880,
                after=1300,
                unit="ms",
            )
        ],
        confidence=0.86,
        confidence_label="high",
        summary="p75 LCP on /results rose 38% (1.9 s → 2.6 s) in release 1.2.9.",
        suggested_fix="Check /api/search's latency on the server.",
        dashboard_url="http://grafana.local/d/vitalsight-routes?var-app=shop-web&var-route=%2Fresults",
    )


def test_card_states_land_in_rum_insights_intact(serve: ServeProcess) -> None:
    opened = _card(Status.OPEN, datetime(2026, 11, 25, 4, 2, tzinfo=UTC))
    resolved = _card(Status.RESOLVED, opened.updated_at + timedelta(minutes=30))
    publisher = CardPublisher(serve.http_url, API_KEY)
    publisher.publish([opened])
    publisher.publish([resolved])
    # Both states were stored (the processors dropped neither) ...
    stored = (
        "EventName = 'vitalsight.insight' AND LogAttributes['vitalsight.insight.id'] = 'card-7f3a'"
    )
    assert serve.wait_for_count("otel_logs", 2, where=stored) == 2
    # ... and the table keeps the latest (rows may already be merged by the engine).
    assert serve.wait_for_count("rum_insights FINAL", 1, where="status = 'resolved'") == 1
    [row] = serve.rows(
        "SELECT status, resolved_at IS NOT NULL, scope, baseline_value, current_value, "
        "change_pct, cause_kind, evidence, confidence, summary, suggested_fix, dashboard_url, "
        "opened_at, route, release, baseline_release "
        "FROM rum_insights FINAL WHERE id = 'card-7f3a'"
    )
    assert row[:7] == (
        "resolved",
        True,
        {"device": "mobile", "network": "4g"},
        1900.0,
        2620.0,
        37.9,
        "slow_endpoint",
    )
    assert json.loads(row[7]) == [e.model_dump(mode="json") for e in resolved.evidence]
    assert row[8] == pytest.approx(0.86)
    assert row[9:12] == (resolved.summary, resolved.suggested_fix, resolved.dashboard_url)
    assert row[12].replace(tzinfo=UTC) == opened.opened_at
    assert row[13:] == ("/results", "1.2.9", "1.2.8")


def test_a_wrong_key_is_an_error_not_a_silent_drop(serve: ServeProcess) -> None:
    with pytest.raises(PublishError, match="401"):
        CardPublisher(serve.http_url, "wrong").publish([_card(Status.OPEN, datetime.now(UTC))])


def test_nothing_to_publish_sends_nothing() -> None:
    CardPublisher("http://127.0.0.1:9").publish([])  # port 9 (discard): would fail if contacted
