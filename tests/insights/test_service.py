"""The service loop: engine → summary → OTLP publish → Grafana annotation, with metrics.

The engine is scripted (a stand-in of our own engine: this test is about the loop; the real
engine runs end to end in test_sidecar.py). Cards go through the real CardPublisher to a
real `vitalsight serve`; Grafana and the Anthropic API are local stand-ins.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from aiohttp import web
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from tests.insights.grafana_stand_in import TOKEN, FakeGrafana
from tests.insights.stand_in import Recorded, StandIn
from tests.insights.summarize_cards import GRAFANA_URL, OPENED, regression_card
from tests.serve_process import ServeProcess

from vitalsight.insights.annotate import GrafanaAnnotator
from vitalsight.insights.card import IncidentCard, Status
from vitalsight.insights.metrics import InsightMetrics
from vitalsight.insights.publish import CardPublisher
from vitalsight.insights.service import InsightService
from vitalsight.insights.summarize import ClaudeSummarizer, TemplateSummarizer
from vitalsight.insights.template import render

CLAUDE_SUMMARY = (
    "p75 LCP on /results rose 38% (1.9 s to 2.6 s) in release 1.2.9; /api/search p95 rose "
    "420 ms in the same release: likely cause. Confidence high."
)
RESOLVED = OPENED + timedelta(minutes=20)


class ScriptedEngine:
    """Returns the scripted cards of each cycle in turn; raises when told to."""

    def __init__(self, *cycles: list[IncidentCard] | Exception) -> None:
        self._cycles = list(cycles)
        self.calls: list[datetime] = []

    def run_cycle(self, now: datetime) -> list[IncidentCard]:
        self.calls.append(now)
        step = self._cycles.pop(0) if self._cycles else []
        if isinstance(step, Exception):
            raise step
        return step


def claude_reply(request: Recorded) -> web.Response:
    text = json.dumps({"summary": CLAUDE_SUMMARY})
    return web.json_response(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": request.json()["model"],
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    )


@pytest.fixture
def grafana() -> FakeGrafana:
    return FakeGrafana()


@pytest.fixture
def grafana_api(grafana: FakeGrafana) -> Iterator[StandIn]:
    stand_in = StandIn(grafana.respond).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def anthropic_api() -> Iterator[StandIn]:
    stand_in = StandIn(claude_reply).start()
    yield stand_in
    stand_in.stop()


def sample(metrics: InsightMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_cycle_summarises_publishes_and_annotates(
    server: ServeProcess, grafana: FakeGrafana, grafana_api: StandIn, anthropic_api: StandIn
) -> None:
    opened = regression_card()
    resolved = opened.model_copy(
        update={"status": Status.RESOLVED, "resolved_at": RESOLVED, "updated_at": RESOLVED}
    )
    claude = ClaudeSummarizer(
        "key", grafana_url=GRAFANA_URL, base_url=anthropic_api.url, template=render
    )
    annotator = GrafanaAnnotator(grafana_api.url, TOKEN)
    service = InsightService(
        ScriptedEngine([opened], [resolved]),
        claude,
        CardPublisher(server.http_url),
        annotator=annotator,
    )
    try:
        first = service.run_once(OPENED)
        assert (first.ok, first.cards) == (True, 1)
        assert sample(service.metrics, "vitalsight_insights_open_incidents") == 1
        service.run_once(RESOLVED)
    finally:
        claude.close()
        annotator.close()

    where = "id = 'inc-results-lcp-129' AND status = 'resolved'"
    assert server.wait_for_count("rum_insights", 1, where=where) == 1
    [(summary, source)] = server.rows(
        f"SELECT summary, summary_source FROM rum_insights FINAL WHERE {where}"
    )
    assert (summary, source) == (CLAUDE_SUMMARY, "claude")
    assert len(anthropic_api.requests) == 2
    texts = {a["text"].split("\n")[0] for a in grafana.annotations.values()}
    assert texts == {f"[resolved] {CLAUDE_SUMMARY}"}
    assert len(grafana.annotations) == 5  # one per affected dashboard, never duplicated

    metrics = service.metrics
    assert sample(metrics, "vitalsight_insights_cycles_total", outcome="ok") == 2
    assert sample(metrics, "vitalsight_insights_cards_total", kind="regression", status="open") == 1
    assert (
        sample(metrics, "vitalsight_insights_cards_total", kind="regression", status="resolved")
        == 1
    )
    assert sample(metrics, "vitalsight_insights_summaries_total", source="claude") == 2
    assert sample(metrics, "vitalsight_insights_open_incidents") == 0
    assert sample(metrics, "vitalsight_insights_cycle_seconds_count") == 2
    assert sample(metrics, "vitalsight_insights_annotation_failures_total") == 0


def test_engine_failure_is_counted_and_the_loop_goes_on() -> None:
    engine = ScriptedEngine(RuntimeError("rollups unreachable"), [])
    sink = RecordingReceiver().start()
    try:
        service = InsightService(engine, TemplateSummarizer(render), CardPublisher(sink.url))
        failed = service.run_once(OPENED)
        recovered = service.run_once(OPENED + timedelta(minutes=1))
    finally:
        sink.stop()
    assert not failed.ok and "rollups unreachable" in failed.error
    assert recovered.ok
    assert sample(service.metrics, "vitalsight_insights_cycles_total", outcome="failed") == 1
    assert sample(service.metrics, "vitalsight_insights_cycles_total", outcome="ok") == 1
    assert service.health()["last_cycle_ok"] is True


class RecordingReceiver(StandIn):
    """An OTLP/HTTP logs endpoint that refuses the first `refuse` requests with 400."""

    def __init__(self, refuse: int = 0) -> None:
        self.refuse = refuse
        super().__init__(self._answer)

    def _answer(self, request: Recorded) -> web.Response:
        assert (request.method, request.path) == ("POST", "/v1/logs")
        if self.refuse:
            self.refuse -= 1
            return web.Response(status=400, text="bad request")
        return web.Response(status=200, content_type="application/x-protobuf")

    def card_ids(self, index: int) -> list[tuple[str, str]]:
        request = ExportLogsServiceRequest.FromString(self.requests[index].body)
        return [
            (attrs["vitalsight.insight.id"], attrs["vitalsight.insight.status"])
            for resource in request.resource_logs
            for scope in resource.scope_logs
            for record in scope.log_records
            for attrs in [{kv.key: kv.value.string_value for kv in record.attributes}]
        ]


def test_refused_cards_are_sent_again_with_the_next_cycle() -> None:
    first = regression_card()
    second = first.model_copy(update={"id": "inc-2"})
    first_updated = first.model_copy(
        update={"status": Status.UPDATED, "updated_at": OPENED + timedelta(minutes=1)}
    )
    receiver = RecordingReceiver(refuse=1).start()
    try:
        service = InsightService(
            ScriptedEngine([first], [second, first_updated]),
            TemplateSummarizer(render),
            CardPublisher(receiver.url),
        )
        service.run_once(OPENED)
        assert service.health()["unpublished_cards"] == 1
        service.run_once(OPENED + timedelta(minutes=1))
    finally:
        receiver.stop()
    assert sample(service.metrics, "vitalsight_insights_publish_failures_total") == 1
    assert receiver.card_ids(0) == [("inc-results-lcp-129", "open")]
    # The retry carries the latest state of the refused card, once, with the new card.
    assert sorted(receiver.card_ids(1)) == [("inc-2", "open"), ("inc-results-lcp-129", "updated")]
    assert service.health()["unpublished_cards"] == 0


def test_run_forever_cycles_until_stopped() -> None:
    engine = ScriptedEngine()
    receiver = RecordingReceiver().start()
    service = InsightService(engine, TemplateSummarizer(render), CardPublisher(receiver.url))

    async def run_briefly() -> None:
        stop = asyncio.Event()
        loop = asyncio.create_task(service.run_forever(0.05, stop))
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(loop, timeout=2)

    try:
        asyncio.run(run_briefly())
    finally:
        receiver.stop()
    assert 3 <= len(engine.calls) <= 12
    assert engine.calls == sorted(engine.calls)
    assert receiver.requests == []  # no cards, nothing sent
