"""The structured facts of a card: all a summariser may know, and all it may state.

Only the card's fields go in, never raw events (sessions, URLs with query strings, user
agents). Text that came from browsers' error reports (an error evidence's subject, any
evidence detail) is untrusted: it is held apart, referred to by a reference such as
`untrusted_text_1`, and sent in delimited blocks (see `prompt.py`). Derived numbers
(differences, percentage changes, ratios) are computed here so that a model can quote
them instead of doing arithmetic the checker would have to guess.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vitalsight.insights.card import Evidence, IncidentCard
from vitalsight.insights.summarize.numbers import numbers_in

UNTRUSTED_REFERENCE = "untrusted_text_{}"
_UNTRUSTED_EVIDENCE_KINDS = ("error", "exception", "message", "stack")


@dataclass(frozen=True)
class SummaryFacts:
    """What the model is given: `facts` (trusted, JSON) and `untrusted` texts by reference."""

    facts: dict[str, Any]
    untrusted: dict[str, str]

    def facts_json(self) -> str:
        return json.dumps(self.facts, indent=1, ensure_ascii=False, sort_keys=True)

    def numbers(self) -> list[float]:
        """Every number a summary may state: numeric facts and numbers inside fact texts."""
        values = [value for value in _leaves(self.facts) if isinstance(value, float | int)]
        texts = [value for value in _leaves(self.facts) if isinstance(value, str)]
        texts += [text for ref, text in self.untrusted.items() if ref in self.quotable]
        return [float(value) for value in values if not isinstance(value, bool)] + list(
            numbers_in(texts)
        )

    @property
    def quotable(self) -> frozenset[str]:
        """References whose text a summary may quote (short labels, not free text)."""
        return frozenset(self.facts.get("quotable_untrusted", []))

    def text(self) -> str:
        """The facts as text, for tokens (versions, times, identifiers) checked verbatim."""
        quoted = [self.untrusted[ref] for ref in sorted(self.quotable)]
        return "\n".join([self.facts_json(), *quoted])


def build_facts(card: IncidentCard) -> SummaryFacts:
    untrusted: dict[str, str] = {}
    quotable: list[str] = []

    def hold(text: str, may_quote: bool) -> str:
        reference = UNTRUSTED_REFERENCE.format(len(untrusted) + 1)
        untrusted[reference] = text
        if may_quote:
            quotable.append(reference)
        return reference

    evidence = [_evidence_facts(item, hold) for item in card.evidence]
    facts: dict[str, Any] = {
        "incident": {
            "kind": card.kind.value,
            "status": card.status.value,
            "app": card.app,
            "environment": card.environment,
            "metric": card.metric,
            "statistic": card.statistic,
            "unit": card.unit,
            "route": card.route,
            "release": card.release,
            "baseline_release": card.baseline_release,
            "where": dict(card.scope),
            "opened_at": _when(card.opened_at),
            "resolved_at": _when(card.resolved_at) if card.resolved_at else "",
        },
        "change": _change(card.baseline_value, card.current_value, card.unit)
        | {"change_pct": round(card.change_pct, 2)},
        "cause": {
            "kind": card.cause_kind.value,
            "description": _redact(card.cause, untrusted),
        },
        "evidence": evidence,
        "confidence": {"label": card.confidence_label, "score": round(card.confidence, 2)},
        "suggested_action": _redact(card.suggested_fix, untrusted),
        "dashboard_url": card.dashboard_url,
        "quotable_untrusted": quotable,
    }
    return SummaryFacts(facts=facts, untrusted=untrusted)


def _evidence_facts(item: Evidence, hold: Callable[[str, bool], str]) -> dict[str, Any]:
    from_browsers = any(word in item.kind.lower() for word in _UNTRUSTED_EVIDENCE_KINDS)
    subject = hold(item.subject, True) if from_browsers else item.subject
    detail = hold(item.detail, False) if item.detail else ""
    return {
        "kind": item.kind,
        "subject": subject,
        "metric": item.metric,
        "detail": detail,
        **_change(item.before, item.after, item.unit),
    }


def _change(before: float, after: float, unit: str) -> dict[str, Any]:
    """Before/after with the derived figures a sentence usually quotes."""
    derived: dict[str, Any] = {
        "before": _round(before),
        "after": _round(after),
        "difference": _round(after - before),
        "unit": unit,
    }
    if before:
        derived["change_pct_derived"] = round((after - before) / abs(before) * 100, 1)
        derived["ratio"] = round(after / before, 2)
    return derived


def _redact(text: str, untrusted: dict[str, str]) -> str:
    """Engine-written text may embed an error message: refer to it instead of repeating it."""
    for reference, original in untrusted.items():
        if original and original in text:
            text = text.replace(original, f"[{reference}]")
    return text


def _round(value: float) -> float:
    return round(value, 3)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value
