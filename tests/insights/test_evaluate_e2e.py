"""End to end: a small scenario → `vitalsight serve` (OTLP/HTTP) → chDB → the engine, replayed
minute by minute → the expected card with the expected cause → its Grafana annotation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from tests.insights.grafana_stand_in import TOKEN, FakeGrafana
from tests.insights.simulate_helpers import small_scenario
from tests.insights.stand_in import StandIn
from tests.serve_process import ServeProcess

from vitalsight.insights.annotate import GrafanaAnnotator
from vitalsight.insights.card import CauseKind
from vitalsight.insights.engine import EngineSettings
from vitalsight.insights.evaluate import evaluate_stored, totals, wait_until_stored
from vitalsight.insights.simulate.send import send_scenario


@pytest.fixture(scope="module")
def stored(server: ServeProcess) -> Iterator[datetime]:
    """The small scenario sent through the real receiver, ending now."""
    end = datetime.now(UTC)
    summary = send_scenario(small_scenario(), server.http_url, end=end)
    assert summary.events > 20_000
    client = server.client()
    try:
        wait_until_stored(client, "small-app", summary.log_records, timeout_s=120)
    finally:
        client.close()
    yield end


def test_the_slow_endpoint_release_is_found_in_time_with_its_cause(
    server: ServeProcess, stored: datetime
) -> None:
    # only the minutes around the change: the whole window is the bench's job
    scenario = small_scenario(evaluate={"start": "-62m", "end": "-35m"})
    client = server.client()
    try:
        result = evaluate_stored(client, scenario, stored, EngineSettings())
    finally:
        client.close()
    (finding,) = result.findings
    assert finding.card is not None, [c.summary for c in result.cards]
    card = finding.card
    assert (card.route, card.metric) == ("/results", "LCP")
    assert card.cause_kind == CauseKind.SLOW_ENDPOINT
    assert any(e.subject == "/api/search" for e in card.evidence)
    assert finding.onset is not None and finding.delay_minutes is not None
    assert finding.delay_minutes <= 2  # the target, in simulated minutes
    assert totals([result]).recall == 1.0
    assert len(result.cycle_seconds) == 28

    grafana = FakeGrafana()
    stand_in = StandIn(grafana.respond).start()
    annotator = GrafanaAnnotator(stand_in.url, TOKEN)
    try:
        assert annotator.annotate([card]) == 0
    finally:
        annotator.close()
        stand_in.stop()
    annotation = next(iter(grafana.annotations.values()))
    assert {"app:small-app", "route:/results", "kind:regression"} <= set(annotation["tags"])
    assert annotation["time"] == int(card.opened_at.timestamp() * 1000)


def test_cohort_onset_is_read_from_the_rollups(server: ServeProcess, stored: datetime) -> None:
    scenario = small_scenario(evaluate={"start": "-62m", "end": "-60m"})
    client = server.client()
    try:
        strict = evaluate_stored(client, scenario, stored, EngineSettings(min_samples=60))
        loose = evaluate_stored(client, scenario, stored, EngineSettings(min_samples=10))
    finally:
        client.close()
    assert strict.findings[0].onset is not None and loose.findings[0].onset is not None
    assert loose.findings[0].onset < strict.findings[0].onset
