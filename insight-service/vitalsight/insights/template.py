"""The deterministic plain-English summary of a card, built only from its facts.

Always available (the Claude summary falls back to it). Every number printed comes from a
card field or an evidence item, formatted the way people read them: 1.9 s, 420 ms, 0.12
(CLS), 1.3% (rates), 528 KB.
"""

from __future__ import annotations

from vitalsight.insights.card import IncidentCard, Kind, Status

_SCOPE_ORDER = ("device", "network", "browser", "country")


def format_value(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value / 1000:.1f} s" if abs(value) >= 1000 else f"{round(value)} ms"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "score":
        return f"{value:.2f}"
    if unit:
        return f"{round(value)} {unit}"
    return f"{value:g}"


def format_delta(delta: float, unit: str) -> str:
    return format_value(abs(delta), unit)


def render(card: IncidentCard) -> str:
    body = _error_sentence(card) if card.kind is Kind.ERROR_SPIKE else _change_sentence(card)
    parts = [body]
    if card.cause:
        parts.append(f"Likely cause: {card.cause}.")
    if card.confidence_label:
        parts.append(f"Confidence {card.confidence_label}.")
    if card.suggested_fix and card.status is not Status.RESOLVED:
        parts.append(f"What to do: {card.suggested_fix}")
    text = " ".join(parts)
    return f"Resolved: {text}" if card.status is Status.RESOLVED else text


def _change_sentence(card: IncidentCard) -> str:
    where = f"on {card.route}" if card.route else "across the app"
    if card.kind is Kind.SLOW_ENDPOINT:
        what = f"{card.statistic} latency of {card.scope.get('endpoint', card.metric)}"
        where = f"(called from {card.route})" if card.route else ""
    else:
        what = f"{card.statistic} {card.metric}"
    rise = "rose" if card.current_value >= card.baseline_value else "fell"
    numbers = (
        f"{format_value(card.baseline_value, card.unit)} → "
        f"{format_value(card.current_value, card.unit)}"
    )
    sentence = f"{what} {where} {rise} {abs(round(card.change_pct))}% ({numbers})"
    return " ".join(sentence.split()) + _release_clause(card) + _scope_clause(card) + "."


def _error_sentence(card: IncidentCard) -> str:
    ratio = card.current_value / card.baseline_value if card.baseline_value > 0 else 0.0
    verb = _multiplier(ratio)
    where = f" on {card.route}" if card.route else ""
    numbers = (
        f"{format_value(card.baseline_value, card.unit)} → "
        f"{format_value(card.current_value, card.unit)} of page views"
    )
    return (
        f"Error rate{where} {verb} ({numbers})" + _release_clause(card) + _scope_clause(card) + "."
    )


def _multiplier(ratio: float) -> str:
    named = {2: "doubled", 3: "tripled", 4: "quadrupled"}
    rounded = round(ratio)
    if rounded in named and abs(ratio - rounded) < 0.25:
        return named[rounded]
    if ratio > 0:
        return f"rose {ratio:.1f} times"
    return "rose from zero"


def _release_clause(card: IncidentCard) -> str:
    if not card.release:
        return ""
    if card.baseline_release:
        return f" in release {card.release} (vs {card.baseline_release})"
    return f" in release {card.release}"


def _scope_clause(card: IncidentCard) -> str:
    values = [card.scope[d].replace(",", " and ") for d in _SCOPE_ORDER if card.scope.get(d)]
    if card.kind is Kind.ERROR_SPIKE and card.scope.get("browser_version"):
        values = [
            card.scope["browser_version"],
            *[v for v in values if v != card.scope.get("browser")],
        ]
    if values:
        return ", " + " ".join(values) + " only"
    return ", all devices" if card.kind is Kind.REGRESSION else ""
