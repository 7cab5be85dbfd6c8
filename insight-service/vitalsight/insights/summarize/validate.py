"""Checks a model's reply before it may replace the template summary.

A reply is used only when it is one JSON object `{"summary": str}`, every number in the
summary is grounded in the facts (`numbers.py`), every link points into our Grafana, it
names what changed, and it does not repeat untrusted text (an echoed instruction is the
visible trace of a prompt injection that worked). Anything else is rejected with a reason
and the template summary is kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, ValidationError

from vitalsight.insights.summarize.facts import SummaryFacts
from vitalsight.insights.summarize.numbers import unmatched_numbers

MAX_SUMMARY_CHARS = 800
ECHO_WORDS = 5  # this many consecutive words of a free untrusted text count as an echo
_FENCE = re.compile(r"^```(?:json)?\s*(?P<body>.*?)\s*```$", re.DOTALL)
_URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]*://|www\.|javascript:|data:|mailto:)[^\s<>\"')\]]*", re.I)
_BARE_DOMAIN = re.compile(
    r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|dev|app|xyz|info|biz|co|me|ru|cn|"
    r"example|ly|link|site|online|top)\b(?!\.?[a-z0-9])",
    re.I,
)
_VITALS = ("LCP", "INP", "CLS", "TTFB", "FCP")


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    summary: str


@dataclass(frozen=True)
class Verdict:
    summary: str | None  # the accepted summary, or None
    reason: str = ""  # why it was rejected


def check_reply(reply_text: str, facts: SummaryFacts, grafana_url: str) -> Verdict:
    try:
        summary = _parse(reply_text).strip()
    except (ValueError, ValidationError) as exc:
        return Verdict(None, f"malformed reply: {_first_line(exc)}")
    problems = _problems(summary, facts, grafana_url)
    if problems:
        return Verdict(None, "; ".join(problems))
    return Verdict(summary)


def _parse(reply_text: str) -> str:
    text = reply_text.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced["body"]
    return _Reply.model_validate(json.loads(text)).summary


def _problems(summary: str, facts: SummaryFacts, grafana_url: str) -> list[str]:
    if not summary:
        return ["empty summary"]
    if len(summary) > MAX_SUMMARY_CHARS:
        return [f"summary longer than {MAX_SUMMARY_CHARS} characters"]
    problems = []
    foreign = _foreign_links(summary, grafana_url)
    if foreign:
        problems.append(f"links outside Grafana: {', '.join(foreign)}")
    invented = unmatched_numbers(_URL.sub(" ", summary), facts.numbers(), facts.text())
    if invented:
        problems.append(f"numbers not in the facts: {', '.join(invented)}")
    if not _names_the_change(summary, facts):
        problems.append("does not name the metric and route")
    echoed = _echoed_untrusted(summary, facts)
    if echoed:
        problems.append(f"repeats untrusted text: {echoed!r}")
    return problems


def _foreign_links(summary: str, grafana_url: str) -> list[str]:
    base = grafana_url.rstrip("/") + "/" if grafana_url else None
    links = [link for link in _URL.findall(summary) if base is None or not link.startswith(base)]
    without_links = _URL.sub(" ", summary)
    return links + _BARE_DOMAIN.findall(without_links)


def _names_the_change(summary: str, facts: SummaryFacts) -> bool:
    incident = facts.facts["incident"]
    text = summary.lower()
    route = str(incident["route"])
    metric = str(incident["metric"])
    if route and route.lower() not in text:
        return False
    return metric.upper() not in _VITALS or metric.lower() in text


def _echoed_untrusted(summary: str, facts: SummaryFacts) -> str:
    words = _words(summary)
    said = {tuple(words[i : i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1)}
    for reference, text in facts.untrusted.items():
        if reference in facts.quotable:
            continue
        untrusted = _words(text)
        for i in range(len(untrusted) - ECHO_WORDS + 1):
            window = tuple(untrusted[i : i + ECHO_WORDS])
            if window in said:
                return " ".join(window)
    return ""


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
