"""Claude rewrites the template summary from the card's facts; the template is the fallback.

Used only when an Anthropic API key is configured. One Messages API call per change of a
card's facts (an accepted summary is reused while they stay the same); any failure (HTTP
error, timeout, malformed or ungrounded reply) keeps the template summary, so an incident
is never held back or misdescribed because of the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anthropic

from vitalsight.insights.card import IncidentCard, Status
from vitalsight.insights.summarize.facts import SummaryFacts, build_facts
from vitalsight.insights.summarize.prompt import SYSTEM_PROMPT, user_message
from vitalsight.insights.summarize.validate import check_reply

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "claude-sonnet-4-6"  # not on the SDK's deprecation list (2.13)
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_TOKENS = 400
SOURCE_CLAUDE = "claude"
SOURCE_TEMPLATE = "template"

TemplateRenderer = Callable[[IncidentCard], str]
SummaryObserver = Callable[[str, str], None]  # (source, rejection reason or "")


_REASON_KINDS = (
    ("API error", "api_error"),
    ("unexpected error", "api_error"),
    ("stopped early", "truncated"),
    ("malformed", "malformed"),
    ("empty summary", "malformed"),
    ("summary longer", "malformed"),
    ("links outside", "foreign_link"),
    ("numbers not in", "invented_numbers"),
    ("does not name", "off_topic"),
    ("repeats untrusted", "echo"),
)


def reason_kind(reason: str) -> str:
    """A reason's first problem as a short label (a bounded set, for metrics)."""
    return next((kind for prefix, kind in _REASON_KINDS if reason.startswith(prefix)), "other")


def engine_template(card: IncidentCard) -> str:
    """The template summary the engine already wrote on the card."""
    return card.summary


class TemplateSummarizer:
    """The deterministic summary only (no API key configured)."""

    def __init__(self, template: TemplateRenderer = engine_template) -> None:
        self._template = template

    def summarize(self, card: IncidentCard) -> IncidentCard:
        return card.model_copy(
            update={"summary": self._template(card), "summary_source": SOURCE_TEMPLATE}
        )


class ClaudeSummarizer:
    """Asks Claude for a summary of the facts; keeps it only when every check passes."""

    def __init__(
        self,
        api_key: str,
        *,
        grafana_url: str = "",
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        template: TemplateRenderer = engine_template,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = 1,
        observer: SummaryObserver | None = None,
    ) -> None:
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )
        self._grafana_url = grafana_url
        self._model = model
        self._template = template
        self._observer = observer
        # card id → (the facts message, the accepted summary): a card whose facts did not
        # change since its last accepted summary keeps it without another API call.
        self._accepted: dict[str, tuple[str, str]] = {}

    def summarize(self, card: IncidentCard) -> IncidentCard:
        summary, reason = self._ask(card)
        if summary is None:
            logger.warning("insight %s: template summary kept (%s)", card.id, reason)
            self._observe(SOURCE_TEMPLATE, reason)
            return card.model_copy(
                update={"summary": self._template(card), "summary_source": SOURCE_TEMPLATE}
            )
        self._observe(SOURCE_CLAUDE, "")
        return card.model_copy(update={"summary": summary, "summary_source": SOURCE_CLAUDE})

    def close(self) -> None:
        self._client.close()

    def _ask(self, card: IncidentCard) -> tuple[str | None, str]:
        facts = build_facts(card)
        message_text = user_message(facts)
        previous = self._accepted.pop(card.id, None)
        summary: str | None
        if previous is not None and previous[0] == message_text:
            summary, reason = previous[1], ""
        else:
            summary, reason = self._request(facts, message_text)
        if summary is not None and card.status != Status.RESOLVED:  # resolved: not sent again
            self._accepted[card.id] = (message_text, summary)
        return summary, reason

    def _request(self, facts: SummaryFacts, message_text: str) -> tuple[str | None, str]:
        try:
            message = self._client.messages.create(
                model=self._model,
                max_tokens=DEFAULT_MAX_TOKENS,
                system=SYSTEM_PROMPT,
                messages=[{"role": "user", "content": message_text}],
            )
        except anthropic.AnthropicError as exc:
            return None, f"API error: {type(exc).__name__}: {exc}"
        except Exception as exc:  # an SDK bug must not cost the card its summary
            logger.exception("unexpected error from the Anthropic SDK")
            return None, f"unexpected error: {type(exc).__name__}"
        if message.stop_reason != "end_turn":
            return None, f"stopped early: {message.stop_reason}"
        text = "".join(block.text for block in message.content if block.type == "text")
        verdict = check_reply(text, facts, self._grafana_url)
        return verdict.summary, verdict.reason

    def _observe(self, source: str, reason: str) -> None:
        if self._observer is not None:
            self._observer(source, reason)
