"""The insight service's HTTP API (FastAPI).

GET /insights             latest card states; filters app, status, route, release, kind, limit
GET /insights/{id}        one card (404 if unknown)
GET /sampling/boosts      {app: [routes]} with an open incident: the sample processor keeps
                          these routes at 100% while the incident lasts (it polls this)
GET /metrics              Prometheus metrics
GET /healthz              liveness, with the last cycle's time and outcome
Cards are read from `rum_insights` (CardReader), so every replica and restart agrees.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from vitalsight.insights.card import IncidentCard, Kind, Status
from vitalsight.insights.card_reader import DEFAULT_LIMIT, MAX_LIMIT, CardFilter, CardReader

BOOSTS_MAX_AGE_S = 30  # the processor polls; a proxy may cache this long

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
HealthReport = Callable[[], dict[str, Any]]


def create_app(
    reader: CardReader,
    registry: CollectorRegistry,
    *,
    health: HealthReport | None = None,
    lifespan: Lifespan | None = None,
) -> FastAPI:
    app = FastAPI(title="vitalsight insights", lifespan=lifespan)

    @app.get("/insights")
    def list_insights(
        app_name: Annotated[str | None, Query(alias="app")] = None,
        status: Status | None = None,
        route: str | None = None,
        release: str | None = None,
        kind: Kind | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> list[IncidentCard]:
        where = CardFilter(app_name, status, route, release, kind, limit)
        return reader.cards(where)

    @app.get("/insights/{card_id}")
    def get_insight(card_id: str) -> IncidentCard:
        card = reader.card(card_id)
        if card is None:
            raise HTTPException(status_code=404, detail=f"no insight {card_id}")
        return card

    @app.get("/sampling/boosts")
    def sampling_boosts(response: Response) -> dict[str, list[str]]:
        response.headers["Cache-Control"] = f"max-age={BOOSTS_MAX_AGE_S}"
        return reader.open_routes()

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", **(health() if health is not None else {})}

    return app
