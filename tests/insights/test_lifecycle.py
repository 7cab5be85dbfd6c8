"""Incident lifecycle: confirmation, one card per incident, updates, resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vitalsight.insights.card import CauseKind, IncidentCard, Kind, Status
from vitalsight.insights.lifecycle import Finding, IncidentTracker, incident_key

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def _finding(
    minute: int,
    change_pct: float = 38.0,
    *,
    strict: bool = True,
    cause: CauseKind = CauseKind.SLOW_ENDPOINT,
) -> Finding:
    at = T0 + timedelta(minutes=minute)
    card = IncidentCard(
        id="",
        opened_at=at,
        updated_at=at,
        app="shop",
        kind=Kind.REGRESSION,
        metric="LCP",
        route="/results",
        release="1.2.9",
        baseline_value=1900,
        current_value=1900 * (1 + change_pct / 100),
        change_pct=change_pct,
        unit="ms",
        cause_kind=cause,
    )
    return Finding(incident_key(card), card, strict)


def _tracker() -> IncidentTracker:
    return IncidentTracker(confirm_cycles=2, resolve_after=timedelta(minutes=5))


def _at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def test_opens_after_two_consecutive_strict_cycles_only() -> None:
    tracker = _tracker()
    assert tracker.observe(_at(0), [_finding(0)]) == []
    assert tracker.observe(_at(1), []) == []  # not consecutive: starts again
    assert tracker.observe(_at(2), [_finding(2)]) == []
    opened = tracker.observe(_at(3), [_finding(3)])
    assert [(c.status, c.opened_at) for c in opened] == [(Status.OPEN, _at(3))]
    assert opened[0].id


def test_a_loose_finding_never_opens_but_keeps_an_incident_open() -> None:
    tracker = _tracker()
    for minute in range(5):
        assert tracker.observe(_at(minute), [_finding(minute, strict=False)]) == []
    tracker.observe(_at(5), [_finding(5)])
    [card] = tracker.observe(_at(6), [_finding(6)])
    for minute in range(7, 30):
        assert tracker.observe(_at(minute), [_finding(minute, strict=False)]) == []
    assert [c.id for c in tracker.open_cards] == [card.id]


def test_one_card_id_per_incident_with_updates_on_material_change() -> None:
    tracker = _tracker()
    tracker.observe(_at(0), [_finding(0)])
    [opened] = tracker.observe(_at(1), [_finding(1)])
    assert tracker.observe(_at(2), [_finding(2, change_pct=41)]) == []  # small wobble
    [bigger] = tracker.observe(_at(3), [_finding(3, change_pct=60)])
    [recaused] = tracker.observe(_at(4), [_finding(4, change_pct=60, cause=CauseKind.RELEASE)])
    assert {opened.id, bigger.id, recaused.id} == {opened.id}
    assert (bigger.status, bigger.opened_at, bigger.updated_at) == (Status.UPDATED, _at(1), _at(3))
    assert recaused.cause_kind is CauseKind.RELEASE


def test_resolves_after_quiet_minutes_and_a_recurrence_is_a_new_incident() -> None:
    tracker = _tracker()
    tracker.observe(_at(0), [_finding(0)])
    [opened] = tracker.observe(_at(1), [_finding(1)])
    for minute in range(2, 6):
        assert tracker.observe(_at(minute), []) == []
    [resolved] = tracker.observe(_at(6), [])
    assert (resolved.id, resolved.status, resolved.resolved_at) == (
        opened.id,
        Status.RESOLVED,
        _at(6),
    )
    assert tracker.open_cards == []
    tracker.observe(_at(20), [_finding(20)])
    [again] = tracker.observe(_at(21), [_finding(21)])
    assert again.id != opened.id and again.status is Status.OPEN


def test_a_subject_incident_keeps_its_identity_when_its_route_shifts() -> None:
    card = _finding(0).card
    moved = card.model_copy(update={"route": "/cart"})
    assert incident_key(card, "fp-1") == incident_key(moved, "fp-1")
    assert incident_key(card) != incident_key(moved)


def test_a_decisive_finding_opens_without_waiting_for_confirmation() -> None:
    tracker = _tracker()
    decisive = _finding(0)
    decisive = Finding(decisive.key, decisive.card, strict=True, decisive=True)
    [opened] = tracker.observe(_at(0), [decisive])
    assert opened.status is Status.OPEN and opened.opened_at == _at(0)
