"""Reads incident cards back from `rum_insights` (latest state per id: FINAL).

Through the one read path (`connect_reader`, clickhouse-connect over the ClickHouse HTTP
protocol), with bound parameters. One client shared by the API's worker threads, behind a
lock: a clickhouse-connect client is not meant for concurrent queries.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from vitalsight.insights.card import IncidentCard, Kind, Status

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_COLUMNS = (
    "id, status, opened_at, updated_at, resolved_at, app, environment, kind, metric, "
    "statistic, route, release, baseline_release, scope, baseline_value, current_value, "
    "change_pct, unit, cause_kind, cause, evidence, confidence, confidence_label, summary, "
    "summary_source, suggested_fix, dashboard_url"
)
_TIMES = ("opened_at", "updated_at", "resolved_at")


@dataclass(frozen=True)
class CardFilter:
    """Equality filters of GET /insights; None means any."""

    app: str | None = None
    status: Status | None = None
    route: str | None = None
    release: str | None = None
    kind: Kind | None = None
    limit: int = DEFAULT_LIMIT


class CardReader:
    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def cards(self, where: CardFilter) -> list[IncidentCard]:
        """Latest state of matching cards, most recently updated first."""
        conditions = ["1"]
        parameters: dict[str, Any] = {"limit": min(max(where.limit, 1), MAX_LIMIT)}
        for column, value in (
            ("app", where.app),
            ("status", where.status),
            ("route", where.route),
            ("release", where.release),
            ("kind", where.kind),
        ):
            if value is not None:
                conditions.append(f"{column} = {{{column}:String}}")
                parameters[column] = str(value)
        sql = (
            f"SELECT {_COLUMNS} FROM rum_insights FINAL WHERE {' AND '.join(conditions)} "
            "ORDER BY updated_at DESC, id LIMIT {limit:UInt32}"
        )
        return self._query_cards(sql, parameters)

    def card(self, card_id: str) -> IncidentCard | None:
        sql = f"SELECT {_COLUMNS} FROM rum_insights FINAL WHERE id = {{id:String}} LIMIT 1"
        found = self._query_cards(sql, {"id": card_id})
        return found[0] if found else None

    def open_routes(self) -> dict[str, list[str]]:
        """{app: [routes]} of the incidents not resolved (for the sampling boost)."""
        sql = (
            "SELECT app, groupUniqArray(route) FROM rum_insights FINAL "
            "WHERE status != 'resolved' AND route != '' GROUP BY app ORDER BY app"
        )
        rows = self._query(sql, {})
        return {str(app): sorted(str(route) for route in routes) for app, routes in rows}

    def close(self) -> None:
        self._client.close()

    def _query_cards(self, sql: str, parameters: dict[str, Any]) -> list[IncidentCard]:
        cards = []
        for row in self._query(sql, parameters):
            card = _card(dict(zip(_COLUMNS.split(", "), row, strict=True)))
            if card is not None:
                cards.append(card)
        return cards

    def _query(self, sql: str, parameters: dict[str, Any]) -> Sequence[Sequence[Any]]:
        with self._lock:
            rows: Sequence[Sequence[Any]] = self._client.query(
                sql, parameters=parameters
            ).result_rows
        return rows


def _card(row: dict[str, Any]) -> IncidentCard | None:
    for name in _TIMES:
        if isinstance(row[name], datetime) and row[name].tzinfo is None:
            row[name] = row[name].replace(tzinfo=UTC)
    # Float32 column: 0.87 reads back as 0.8700000047683716.
    row["confidence"] = round(float(row["confidence"]), 4)
    try:
        row["evidence"] = json.loads(row["evidence"] or "[]")
        return IncidentCard.model_validate(row)
    except (ValueError, ValidationError) as exc:
        # A row another producer wrote with the event name but not our card's shape.
        logger.warning("rum_insights row %r is not a card: %s", row.get("id"), exc)
        return None
