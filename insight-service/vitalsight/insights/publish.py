"""Sending cards to the receiver as OTLP logs, like any other producer.

Each card state is one log record (event `vitalsight.insight`, attributes
`vitalsight.insight.<field>`, time = updated_at), posted as OTLP/HTTP protobuf; the
`rum_insights` materialized view turns it into a row. The sidecar never writes ClickHouse.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from vitalsight.insights.card import INSIGHT_EVENT_NAME, IncidentCard
from vitalsight.service.otlp_build import event, logs_request

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-Vitalsight-Key"
SERVICE_NAME = "vitalsight-insights"
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_ATTEMPTS = 4
MAX_RETRY_AFTER_S = 10.0


class PublishError(RuntimeError):
    """The receiver refused the cards (or stayed unavailable through every retry)."""


class CardPublisher:
    def __init__(
        self,
        otlp_http_url: str,
        api_key: str | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        attempts: int = DEFAULT_ATTEMPTS,
    ) -> None:
        self._url = otlp_http_url.rstrip("/") + "/v1/logs"
        self._headers = {"Content-Type": "application/x-protobuf"}
        if api_key:
            self._headers[API_KEY_HEADER] = api_key
        self._timeout_s = timeout_s
        self._attempts = attempts

    def publish(self, cards: Sequence[IncidentCard]) -> None:
        """Sends every card in one request; retries 503/429 as the receiver asks."""
        if not cards:
            return
        body = _request_body(cards)
        with httpx.Client(timeout=self._timeout_s) as client:
            for attempt in range(1, self._attempts + 1):
                response = client.post(self._url, content=body, headers=self._headers)
                if response.status_code < 300:
                    return
                if response.status_code not in (429, 503) or attempt == self._attempts:
                    raise PublishError(f"receiver answered {response.status_code}: {response.text}")
                delay = _retry_after(response, attempt)
                logger.warning("receiver busy (%s); retrying in %.1fs", response.status_code, delay)
                time.sleep(delay)


def _request_body(cards: Sequence[IncidentCard]) -> bytes:
    records = [
        event(INSIGHT_EVENT_NAME, _unix_ns(card.updated_at), card.log_attributes())
        for card in cards
    ]
    return logs_request({"service.name": SERVICE_NAME}, records).SerializeToString()


def _unix_ns(moment: datetime) -> int:
    """Naive datetimes are UTC (the engine's convention), never the host's local time."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1_000_000) * 1000


def _retry_after(response: httpx.Response, attempt: int) -> float:
    try:
        seconds: float = float(str(response.headers.get("Retry-After", "")))
        return min(seconds, MAX_RETRY_AFTER_S)
    except ValueError:
        return min(0.5 * 2.0**attempt, MAX_RETRY_AFTER_S)
