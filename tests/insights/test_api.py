"""The REST API over a real `vitalsight serve`: cards sent as OTLP logs, read back FINAL.

Cards reach `rum_insights` the production way (CardPublisher → OTLP/HTTP receiver →
materialized view); the API reads them through `connect_reader` to the query endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter
from tests.insights.summarize_cards import OPENED, regression_card
from tests.serve_process import ServeProcess

from vitalsight.insights.api import create_app
from vitalsight.insights.card import CauseKind, IncidentCard, Kind, Status
from vitalsight.insights.card_reader import CardReader
from vitalsight.insights.publish import CardPublisher

LATER = OPENED + timedelta(minutes=5)


def cards() -> list[IncidentCard]:
    results = regression_card()
    results_updated = results.model_copy(
        update={"status": Status.UPDATED, "updated_at": LATER, "current_value": 2900.0}
    )
    checkout = results.model_copy(
        update={
            "id": "inc-checkout-inp",
            "metric": "INP",
            "route": "/checkout",
            "release": "1.2.8",
            "status": Status.RESOLVED,
            "resolved_at": LATER,
            "cause_kind": CauseKind.LONG_TASKS,
            "evidence": [],
        }
    )
    blog = results.model_copy(
        update={
            "id": "inc-blog-errors",
            "app": "blog",
            "kind": Kind.ERROR_SPIKE,
            "metric": "error_rate",
            "route": "/home",
            "scope": {},
        }
    )
    endpoint = results.model_copy(
        update={"id": "inc-search-p95", "kind": Kind.SLOW_ENDPOINT, "route": ""}
    )
    return [results, checkout, blog, endpoint, results_updated]


@pytest.fixture(scope="module")
def api(server: ServeProcess) -> Iterator[TestClient]:
    # The update arrives in a later request (another part), as it would live: FINAL
    # must pick the latest state.
    *first_states, update = cards()
    publisher = CardPublisher(server.http_url)
    publisher.publish(first_states)
    assert server.wait_for_count("rum_insights", 4) == 4
    publisher.publish([update])
    assert server.wait_for_count("rum_insights", 1, where="status = 'updated'") == 1
    registry = CollectorRegistry()
    Counter("vitalsight_insights_cycles", "cycles", registry=registry).inc()
    reader = CardReader(server.client())
    app = create_app(reader, registry, health=lambda: {"last_cycle_ok": True})
    with TestClient(app) as client:
        yield client
    reader.close()


def ids(response_json: list[dict[str, object]]) -> list[object]:
    return [card["id"] for card in response_json]


def test_lists_latest_state_per_card_most_recent_first(api: TestClient) -> None:
    response = api.get("/insights")
    assert response.status_code == 200
    listed = response.json()
    assert ids(listed)[0] == "inc-results-lcp-129"  # updated last
    assert sorted(ids(listed)) == sorted(
        ["inc-results-lcp-129", "inc-checkout-inp", "inc-blog-errors", "inc-search-p95"]
    )
    results = listed[0]
    assert results["status"] == "updated" and results["current_value"] == 2900.0
    assert results["scope"] == {"device": "mobile", "network": "4g"}
    assert results["evidence"][1]["subject"] == "TypeError in cart.ts:88"
    assert IncidentCard.model_validate(results) == cards()[-1]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"app": "blog"}, ["inc-blog-errors"]),
        ({"status": "resolved"}, ["inc-checkout-inp"]),
        ({"route": "/checkout"}, ["inc-checkout-inp"]),
        ({"release": "1.2.8"}, ["inc-checkout-inp"]),
        ({"kind": "slow_endpoint"}, ["inc-search-p95"]),
        ({"app": "shop-web", "status": "open"}, ["inc-search-p95"]),
        ({"app": "nope"}, []),
    ],
)
def test_filters(api: TestClient, query: dict[str, str], expected: list[str]) -> None:
    response = api.get("/insights", params=query)
    assert response.status_code == 200
    assert ids(response.json()) == expected


def test_limit(api: TestClient) -> None:
    assert ids(api.get("/insights", params={"limit": 1}).json()) == ["inc-results-lcp-129"]
    assert api.get("/insights", params={"limit": 0}).status_code == 422


def test_invalid_filter_value_is_rejected(api: TestClient) -> None:
    assert api.get("/insights", params={"status": "closed"}).status_code == 422
    assert api.get("/insights", params={"kind": "x' OR 1=1"}).status_code == 422


def test_route_filter_is_a_bound_parameter(api: TestClient) -> None:
    response = api.get("/insights", params={"route": "/x' OR '1'='1"})
    assert response.status_code == 200 and response.json() == []


def test_one_card_by_id(api: TestClient) -> None:
    response = api.get("/insights/inc-checkout-inp")
    assert response.status_code == 200
    card = IncidentCard.model_validate(response.json())
    assert card.status == Status.RESOLVED and card.resolved_at == LATER


def test_unknown_id_is_404(api: TestClient) -> None:
    response = api.get("/insights/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"detail": "no insight does-not-exist"}


def test_sampling_boosts_are_the_open_incidents_routes(api: TestClient) -> None:
    response = api.get("/sampling/boosts")
    assert response.status_code == 200
    # /checkout is resolved; the endpoint incident has no route.
    assert response.json() == {"blog": ["/home"], "shop-web": ["/results"]}
    assert response.headers["cache-control"] == "max-age=30"


def test_metrics_and_health(api: TestClient) -> None:
    metrics = api.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "vitalsight_insights_cycles_total 1.0" in metrics.text
    assert api.get("/healthz").json() == {"status": "ok", "last_cycle_ok": True}
