"""Incident identity and lifecycle: open, updated, resolved; never two cards for one incident.

An incident is identified by what it is about (app, environment, kind, metric, route and
subject: the fingerprint or endpoint), not by its numbers, so the same regression seen again
next minute updates its card instead of opening another. Opening needs a strict finding in
`confirm_cycles` consecutive cycles; staying open needs only the most recent data to still
show the change at half the thresholds (hysteresis), so an incident near the threshold does
not flap, and a fix shows within minutes rather than when the longest window forgets it.
It resolves `resolve_after` after the recent data stopped showing it. A strict finding on
long windows alone (stale data) never opens an incident.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from vitalsight.insights.card import IncidentCard, Status

# A card is re-sent when its change moved by this many percentage points and by this share
# of itself (so a 300% spike wobbling to 330% stays quiet), or its cause, scope or release
# changed. Confidence alone wobbles around its label thresholds: not worth a new card state.
MATERIAL_CHANGE_PCT_POINTS = 10.0
MATERIAL_CHANGE_SHARE = 0.25
CONSECUTIVE_GAP = timedelta(minutes=2)  # cycles further apart than this are not consecutive

IncidentKey = tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """One detection of one cycle: a draft card (id and status are the tracker's)."""

    key: IncidentKey
    card: IncidentCard
    strict: bool  # passes the opening thresholds in some current window
    holds: bool = True  # the most recent data still shows it (keeps an open incident open)
    decisive: bool = False  # so far past the thresholds that one cycle is enough to open


@dataclass
class _Pending:
    count: int
    last_seen: datetime


@dataclass
class _Open:
    card: IncidentCard
    last_seen: datetime


def incident_key(card: IncidentCard, subject: str = "") -> IncidentKey:
    """What the incident is about. With a subject (fingerprint, endpoint) the route is left
    out: it is derived from where the errors fall and may shift while the incident lasts."""
    route = "" if subject else card.route
    return (card.app, card.environment, card.kind.value, card.metric, route, subject)


def incident_id(key: IncidentKey, opened_at: datetime) -> str:
    text = "\x1f".join([*key, opened_at.isoformat()])
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class IncidentTracker:
    def __init__(self, *, confirm_cycles: int, resolve_after: timedelta) -> None:
        self._confirm_cycles = confirm_cycles
        self._resolve_after = resolve_after
        self._pending: dict[IncidentKey, _Pending] = {}
        self._open: dict[IncidentKey, _Open] = {}

    @property
    def open_cards(self) -> list[IncidentCard]:
        return [state.card for state in self._open.values()]

    def is_open(self, key: IncidentKey) -> bool:
        return key in self._open

    def observe(self, now: datetime, findings: list[Finding]) -> list[IncidentCard]:
        """The cards whose state changed at `now`, given this cycle's findings."""
        changed: list[IncidentCard] = []
        seen: set[IncidentKey] = set()
        for finding in findings:
            if finding.key in self._open and not finding.holds:
                continue
            if finding.key in seen:
                continue
            seen.add(finding.key)
            card = self._advance(now, finding)
            if card is not None:
                changed.append(card)
        self._pending = {k: v for k, v in self._pending.items() if k in seen}
        changed.extend(self._resolve_unseen(now, seen))
        return changed

    def _advance(self, now: datetime, finding: Finding) -> IncidentCard | None:
        state = self._open.get(finding.key)
        if state is not None:
            if not finding.holds:
                return None
            state.last_seen = now
            if not _materially_changed(state.card, finding.card):
                return None
            state.card = _carry_identity(finding.card, state.card, Status.UPDATED, now)
            return state.card
        if not (finding.strict and finding.holds):  # never open on stale windows alone
            self._pending.pop(finding.key, None)
            return None
        pending = self._pending.get(finding.key)
        if pending is not None and now - pending.last_seen <= CONSECUTIVE_GAP:
            pending.count += 1
            pending.last_seen = now
        else:
            pending = self._pending[finding.key] = _Pending(1, now)
        if pending.count < self._confirm_cycles and not finding.decisive:
            return None
        del self._pending[finding.key]
        card = finding.card.model_copy(
            update={
                "id": incident_id(finding.key, now),
                "status": Status.OPEN,
                "opened_at": now,
                "updated_at": now,
                "resolved_at": None,
            }
        )
        self._open[finding.key] = _Open(card, now)
        return card

    def _resolve_unseen(self, now: datetime, seen: set[IncidentKey]) -> list[IncidentCard]:
        resolved = []
        for key, state in list(self._open.items()):
            if key not in seen and now - state.last_seen >= self._resolve_after:
                del self._open[key]
                resolved.append(
                    state.card.model_copy(
                        update={"status": Status.RESOLVED, "updated_at": now, "resolved_at": now}
                    )
                )
        return resolved


def _materially_changed(old: IncidentCard, new: IncidentCard) -> bool:
    return (
        abs(new.change_pct - old.change_pct)
        >= max(MATERIAL_CHANGE_PCT_POINTS, MATERIAL_CHANGE_SHARE * abs(old.change_pct))
        or new.cause_kind != old.cause_kind
        or new.scope != old.scope
        or new.release != old.release
    )


def _carry_identity(
    new: IncidentCard, old: IncidentCard, status: Status, now: datetime
) -> IncidentCard:
    return new.model_copy(
        update={"id": old.id, "status": status, "opened_at": old.opened_at, "updated_at": now}
    )
