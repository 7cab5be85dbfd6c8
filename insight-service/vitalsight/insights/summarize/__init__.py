"""Plain-English summaries of incident cards: the template always, Claude when configured."""

from __future__ import annotations

from typing import Protocol

from vitalsight.insights.card import IncidentCard
from vitalsight.insights.summarize.claude import (
    SOURCE_CLAUDE,
    SOURCE_TEMPLATE,
    ClaudeSummarizer,
    TemplateSummarizer,
)


class Summarizer(Protocol):
    def summarize(self, card: IncidentCard) -> IncidentCard: ...


__all__ = [
    "SOURCE_CLAUDE",
    "SOURCE_TEMPLATE",
    "ClaudeSummarizer",
    "Summarizer",
    "TemplateSummarizer",
]
