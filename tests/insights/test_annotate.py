"""GrafanaAnnotator (grafana-client) against a local stand-in of Grafana's annotations API.

The stand-in implements the documented endpoints the annotator uses
(https://grafana.com/docs/grafana/latest/developers/http_api/annotations/): POST
/api/annotations, GET /api/annotations (dashboardUID, type, tags, limit) and PUT
/api/annotations/:id, with bearer-token auth, and checks each request's method, path and
body.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from tests.insights.grafana_stand_in import TOKEN, FakeGrafana
from tests.insights.stand_in import StandIn
from tests.insights.summarize_cards import OPENED, regression_card

from vitalsight.insights.annotate import GrafanaAnnotator
from vitalsight.insights.card import CauseKind, IncidentCard, Kind, Status

OPENED_MS = int(OPENED.timestamp() * 1000)
REGRESSION_DASHBOARDS = {
    "vitalsight-overview",
    "vitalsight-ai-insights",
    "vitalsight-routes",
    "vitalsight-release-comparison",
    "vitalsight-api-performance",  # the cause is a slow endpoint
}
REGRESSION_TAGS = [
    "vitalsight",
    "app:shop-web",
    "kind:regression",
    "route:/results",
    "release:1.2.9",
    "incident:inc-results-lcp-129",
]


@pytest.fixture
def grafana() -> FakeGrafana:
    return FakeGrafana()


@pytest.fixture
def grafana_api(grafana: FakeGrafana) -> Iterator[StandIn]:
    stand_in = StandIn(grafana.respond).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def annotator(grafana_api: StandIn) -> Iterator[GrafanaAnnotator]:
    annotator = GrafanaAnnotator(grafana_api.url, TOKEN)
    yield annotator
    annotator.close()


def test_open_card_is_annotated_on_each_affected_dashboard(
    annotator: GrafanaAnnotator, grafana: FakeGrafana, grafana_api: StandIn
) -> None:
    assert annotator.annotate([regression_card()]) == 0

    posts = [r for r in grafana_api.requests if r.method == "POST"]
    assert {r.path for r in posts} == {"/api/annotations"}
    assert {r.json()["dashboardUID"] for r in posts} == REGRESSION_DASHBOARDS
    for annotation in grafana.annotations.values():
        assert annotation["time"] == annotation["timeEnd"] == OPENED_MS  # a point while open
        assert annotation["tags"] == REGRESSION_TAGS
        assert annotation["text"].startswith("[open] the template's summary")
        assert 'href="http://grafana.test:3000/d/vitalsight-routes?' in annotation["text"]


def test_updates_rewrite_the_same_annotation_and_resolve_makes_a_region(
    annotator: GrafanaAnnotator, grafana: FakeGrafana, grafana_api: StandIn
) -> None:
    card = regression_card()
    annotator.annotate([card])
    created = len(grafana.annotations)
    updated = card.model_copy(
        update={"status": Status.UPDATED, "summary": "now worse", "updated_at": OPENED}
    )
    annotator.annotate([updated])
    resolved_at = OPENED + timedelta(minutes=42)
    annotator.annotate(
        [updated.model_copy(update={"status": Status.RESOLVED, "resolved_at": resolved_at})]
    )

    assert len(grafana.annotations) == created == len(REGRESSION_DASHBOARDS)
    puts = [r for r in grafana_api.requests if r.method == "PUT"]
    assert len(puts) == 2 * created
    assert all(r.path.startswith("/api/annotations/") for r in puts)
    for annotation in grafana.annotations.values():
        assert annotation["time"] == OPENED_MS
        assert annotation["timeEnd"] == OPENED_MS + 42 * 60_000
        assert annotation["text"].startswith("[resolved] now worse")


def test_restarted_annotator_finds_its_annotations_instead_of_duplicating(
    annotator: GrafanaAnnotator, grafana: FakeGrafana, grafana_api: StandIn
) -> None:
    annotator.annotate([regression_card()])
    restarted = GrafanaAnnotator(grafana_api.url, TOKEN)
    try:
        restarted.annotate([regression_card().model_copy(update={"status": Status.UPDATED})])
    finally:
        restarted.close()

    assert len(grafana.annotations) == len(REGRESSION_DASHBOARDS)
    finds = [r for r in grafana_api.requests if r.method == "GET"]
    assert {r.query["dashboardUID"][0] for r in finds} == REGRESSION_DASHBOARDS
    assert all(r.query["tags"] == ["incident:inc-results-lcp-129"] for r in finds)
    assert all(a["text"].startswith("[updated]") for a in grafana.annotations.values())


def test_failure_is_counted_and_retried_with_the_next_batch(
    grafana_api: StandIn, grafana: FakeGrafana
) -> None:
    failures: list[str] = []
    annotator = GrafanaAnnotator(
        grafana_api.url, TOKEN, on_failure=lambda card, exc: failures.append(card.id)
    )
    try:
        grafana.fail_with = 500
        assert annotator.annotate([regression_card()]) == 1
        assert failures == ["inc-results-lcp-129"]
        assert [card.id for card in annotator.pending] == ["inc-results-lcp-129"]

        grafana.fail_with = 0
        assert annotator.annotate([]) == 0
    finally:
        annotator.close()
    assert annotator.pending == []
    assert len(grafana.annotations) == len(REGRESSION_DASHBOARDS)


def test_wrong_token_is_a_failure_not_a_crash(grafana_api: StandIn) -> None:
    annotator = GrafanaAnnotator(grafana_api.url, "wrong")
    try:
        assert annotator.annotate([regression_card()]) == 1
    finally:
        annotator.close()


def test_error_spike_goes_on_the_errors_dashboard(
    annotator: GrafanaAnnotator, grafana: FakeGrafana
) -> None:
    card: IncidentCard = regression_card().model_copy(
        update={
            "id": "inc-errors",
            "kind": Kind.ERROR_SPIKE,
            "metric": "error_rate",
            "route": "",
            "cause_kind": CauseKind.NEW_ERROR,
        }
    )
    annotator.annotate([card])
    dashboards = {a["dashboardUID"] for a in grafana.annotations.values()}
    assert dashboards == {
        "vitalsight-overview",
        "vitalsight-ai-insights",
        "vitalsight-release-comparison",
        "vitalsight-errors",
    }
    assert all("route:" not in " ".join(a["tags"]) for a in grafana.annotations.values())
