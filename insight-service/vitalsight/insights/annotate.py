"""Grafana annotations for incidents, through `grafana-client`.

One annotation per incident on each affected dashboard (overview and AI insights always;
routes, release comparison, errors and API performance when the card concerns them),
tagged `app:`, `route:`, `release:`, `kind:` and `incident:<id>`. A status change rewrites
the annotation in place (PUT, Grafana's documented full update); on resolve it becomes a
region from opened_at to resolved_at. Idempotent per card id: the ids Grafana returned are
remembered, and after a restart found again by the `incident:<id>` tag, so a card is never
annotated twice. A failed call leaves the card pending and is retried with the next batch.

Grafana annotations API: https://grafana.com/docs/grafana/latest/developers/http_api/annotations/
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaException

from vitalsight.grafana.uids import DASHBOARD_UIDS
from vitalsight.insights.card import CauseKind, IncidentCard, Kind, Status

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
INCIDENT_TAG = "incident:{}"
PRODUCT_TAG = "vitalsight"

FailureObserver = Callable[[IncidentCard, Exception], None]


def affected_dashboards(card: IncidentCard) -> list[str]:
    """The dashboards (uids) on which this incident should be visible."""
    names = ["overview", "ai_insights"]
    if card.route:
        names.append("routes")
    if card.release:
        names.append("release_comparison")
    if card.kind == Kind.ERROR_SPIKE or card.cause_kind == CauseKind.NEW_ERROR:
        names.append("errors")
    if card.kind == Kind.SLOW_ENDPOINT or card.cause_kind == CauseKind.SLOW_ENDPOINT:
        names.append("api_performance")
    return [DASHBOARD_UIDS[name] for name in names]


def annotation_tags(card: IncidentCard) -> list[str]:
    tags = [PRODUCT_TAG, f"app:{card.app}", f"kind:{card.kind.value}"]
    if card.route:
        tags.append(f"route:{card.route}")
    if card.release:
        tags.append(f"release:{card.release}")
    tags.append(INCIDENT_TAG.format(card.id))
    return tags


def annotation_text(card: IncidentCard) -> str:
    """What Grafana shows on hover: status, the summary, the link with the context."""
    text = f"[{card.status.value}] {card.summary or card.cause or card.metric}"
    if card.dashboard_url:
        text += f'\n<a href="{card.dashboard_url}">Open in Grafana</a>'
    return text


class GrafanaAnnotator:
    """Creates and updates the annotations of incident cards."""

    def __init__(
        self,
        grafana_url: str,
        token: str | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        on_failure: FailureObserver | None = None,
    ) -> None:
        self._api: Any = GrafanaApi.from_url(grafana_url, credential=token, timeout=timeout_s)
        self._on_failure = on_failure
        # card id → dashboard uid → annotation id
        self._annotations: dict[str, dict[str, int]] = {}
        self._pending: dict[str, IncidentCard] = {}

    @property
    def pending(self) -> list[IncidentCard]:
        """Cards whose annotations failed and will be retried with the next batch."""
        return list(self._pending.values())

    def annotate(self, cards: Iterable[IncidentCard]) -> int:
        """Annotate `cards` (and retry pending ones); returns how many cards failed."""
        for card in cards:
            self._pending[card.id] = _latest(self._pending.get(card.id), card)
        failed = 0
        for card in list(self._pending.values()):
            try:
                self._annotate(card)
            except GrafanaException as exc:
                failed += 1
                logger.warning("insight %s: Grafana annotation failed: %s", card.id, exc)
                if self._on_failure is not None:
                    self._on_failure(card, exc)
            else:
                del self._pending[card.id]
        return failed

    def close(self) -> None:
        self._api.client.s.close()

    def _annotate(self, card: IncidentCard) -> None:
        known = self._annotations.setdefault(card.id, {})
        for dashboard_uid in affected_dashboards(card):
            if dashboard_uid not in known:
                found = self._find(card, dashboard_uid)
                if found is None:
                    known[dashboard_uid] = self._create(card, dashboard_uid)
                    continue
                known[dashboard_uid] = found
            self._update(card, known[dashboard_uid])

    def _find(self, card: IncidentCard, dashboard_uid: str) -> int | None:
        found = self._api.annotations.find_annotations(
            dashboard_uid=dashboard_uid,
            ann_type="annotation",
            tags=[INCIDENT_TAG.format(card.id)],
            limit=1,
        )
        return int(found[0]["id"]) if found else None

    def _create(self, card: IncidentCard, dashboard_uid: str) -> int:
        start, end = _span(card)
        created = self._api.annotations.add_annotation(
            dashboard_uid=dashboard_uid,
            time_from=start,
            time_to=end,
            tags=annotation_tags(card),
            text=annotation_text(card),
        )
        return int(created["id"])

    def _update(self, card: IncidentCard, annotation_id: int) -> None:
        start, end = _span(card)
        self._api.annotations.update_annotation(
            annotation_id,
            time_from=start,
            time_to=end,
            tags=annotation_tags(card),
            text=annotation_text(card),
        )


def _span(card: IncidentCard) -> tuple[int, int]:
    """Epoch milliseconds: a point while open, a region once resolved."""
    start = _epoch_ms(card.opened_at)
    if card.status == Status.RESOLVED and card.resolved_at is not None:
        return start, max(start, _epoch_ms(card.resolved_at))
    return start, start


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _latest(previous: IncidentCard | None, card: IncidentCard) -> IncidentCard:
    if previous is None or card.updated_at >= previous.updated_at:
        return card
    return previous
