"""Suggested actions, one per cause kind, worded with the cause's subject."""

from __future__ import annotations

from vitalsight.insights.card import CauseKind

_ACTIONS = {
    CauseKind.SLOW_ENDPOINT: (
        "Check {subject}'s latency on the server (traces, recent deploys, database); "
        "consider caching it or not blocking rendering on it."
    ),
    CauseKind.BUNDLE_GROWTH: (
        "Find what grew {subject} (bundle analyzer diff between releases); split or lazy-load "
        "the new code and check compression."
    ),
    CauseKind.LONG_TASKS: (
        "Profile {subject} on the slow interactions (LoAF script attribution); break up its "
        "long tasks or defer the work."
    ),
    CauseKind.NEW_ERROR: (
        "Fix or roll back the change that introduced {subject}; check the stack trace in the "
        "Errors dashboard."
    ),
    CauseKind.RELEASE: (
        "Compare release {subject} with the previous one (Release comparison dashboard) and "
        "consider rolling it back."
    ),
    CauseKind.TRAFFIC_MIX: (
        "No code change needed: the traffic mix shifted ({subject}); watch the per-segment "
        "panels before acting."
    ),
    CauseKind.UNKNOWN: (
        "Open the linked dashboard around the start of the change and look for a deploy, a "
        "config change or a third-party script."
    ),
}


def suggested_action(kind: CauseKind, subject: str) -> str:
    return _ACTIONS[kind].format(subject=subject or "it")
