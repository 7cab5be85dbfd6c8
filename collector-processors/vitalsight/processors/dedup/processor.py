"""Dropping replays of the same record (a retried export, a collector that sent twice).

Ids are remembered by arrival time for `window_seconds`, at most `max_entries` of them, in
insertion order, so both memory and per-record work are bounded (an OrderedDict; expiry and
eviction pop from its front).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vitalsight.processors.dedup.config import DedupConfig
from vitalsight.processors.request_view import (
    Keys,
    PlanCache,
    RequestView,
    ResourceView,
    Shape,
    last_positions,
    scalar_text,
)
from vitalsight.receivers.signals import LOGS, Signal

SESSION_ID = "session.id"
EVENT_NAME = "event.name"
WEB_VITAL_EVENT = "browser.web_vital"
VITAL_ID = "browser.web_vital.id"
VITAL_NAME = "browser.web_vital.name"
VITAL_VALUE = "browser.web_vital.value"
# Positions of event.name, the vital's id, session.id, the vital's name and value, and of
# each key attribute.
_Plan = tuple[int | None, int | None, int | None, int | None, int | None, tuple[int | None, ...]]
_SEPARATOR = "\x1f"


@dataclass
class DedupStats:
    """What the processor did since it started (records and ids)."""

    seen: int = 0
    dropped: int = 0  # replays within the window
    unkeyed: int = 0  # records without a usable id, passed through
    expired: int = 0  # ids forgotten because the window passed
    evicted: int = 0  # ids forgotten early because of `max_entries`


def _at(attributes: Any, texts: list[str], index: int | None) -> str:
    """The value at position `index` as text ("" when absent); `texts`: the walk's."""
    if index is None:
        return ""
    return texts[index] or scalar_text(attributes[index].value) or ""


class DedupProcessor:
    """See README.md. Thread-safe."""

    def __init__(self, config: DedupConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.stats = DedupStats()
        self._clock = clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._key_attributes = config.key_attributes
        self._plan = PlanCache(self._make_plan).get
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Record ids remembered now."""
        return len(self._seen)

    def counters(self) -> dict[str, int]:
        """What it did since start-up, by outcome, for the server's /metrics."""
        return {name: int(value) for name, value in vars(self.stats).items()}

    def process(self, signal: Signal, request: Any) -> Any:
        """Drop replayed log records and spans from the request, in place.

        Metrics pass through unchanged.
        """
        if RequestView.supports(signal):
            self.process_view(RequestView(signal, request))
        return request

    def process_view(self, view: RequestView) -> None:
        """Drop replays from a logs or traces request read by the pipeline (request_view)."""
        record_id = self._log_id if view.signal is LOGS else _span_id
        with self._lock:
            now = self._clock()
            self._expire(now)
            seen, stats, limit = self._seen, self.stats, self.config.max_entries
            for resource in view.resources:
                res = self._res_session(resource)
                for scope in resource.scopes:
                    dropped: list[int] = []
                    records = scope.records
                    stats.seen += len(records)
                    keys = [
                        record_id(record, attributes, shape, texts, res)
                        for record, attributes, shape, texts in zip(
                            records, scope.attributes, scope.shapes, scope.texts, strict=True
                        )
                    ]
                    for index, key in enumerate(keys):
                        if key is None:
                            stats.unkeyed += 1
                        elif key in seen:
                            stats.dropped += 1
                            dropped.append(index)
                        else:
                            seen[key] = now
                            if len(seen) > limit:
                                seen.popitem(last=False)
                                stats.evicted += 1
                    scope.delete(dropped)
        view.prune_empty()

    def _expire(self, now: float) -> None:
        oldest = now - self.config.window_seconds
        seen = self._seen
        while seen:
            key, first_seen = next(iter(seen.items()))
            if first_seen > oldest:
                break
            del seen[key]
            self.stats.expired += 1

    def _res_session(self, resource: ResourceView) -> str:
        index = last_positions(resource.shape.keys).get(SESSION_ID)
        return _at(resource.attributes, resource.texts, index)

    def _make_plan(self, shape: Keys) -> _Plan:
        """Positions of the keys the id reads (the last occurrence, as a dict keeps); the
        key attributes' as a tuple of the present ones (an absent one reads as "")."""
        last = last_positions(shape)
        return (
            last.get(EVENT_NAME),
            last.get(VITAL_ID),
            last.get(SESSION_ID),
            last.get(VITAL_NAME),
            last.get(VITAL_VALUE),
            tuple(last.get(key) for key in self._key_attributes),
        )

    def _log_id(
        self, record: Any, attributes: Any, shape: Shape, texts: list[str], res_session: str
    ) -> bytes | None:
        event_at, vital_at, session_at, name_at, value_at, keys_at = self._plan(shape)
        name = record.event_name or _at(attributes, texts, event_at)
        vital_id = _at(attributes, texts, vital_at) if name == WEB_VITAL_EVENT else ""
        if vital_id:
            # web-vitals reuses a metric's id for updated values (reportAllChanges), so the
            # value is part of the id: only an identical report is a replay.
            data = _SEPARATOR.join(
                ("v", vital_id, _at(attributes, texts, name_at), _at(attributes, texts, value_at))
            )
        else:
            session = _at(attributes, texts, session_at) or res_session
            timestamp = record.time_unix_nano or record.observed_time_unix_nano
            if not session and not timestamp:
                return None  # nothing tells two such records apart: keep (fail open)
            parts = ["r", session, name, str(timestamp)]
            parts.extend([_at(attributes, texts, at) if at is not None else "" for at in keys_at])
            data = _SEPARATOR.join(parts)
        return hashlib.blake2b(data.encode(), digest_size=16).digest()


def _span_id(
    span: Any, attributes: Any, shape: Shape, texts: list[str], res_session: str
) -> bytes | None:
    span_id = bytes(span.span_id)
    if not span_id.strip(b"\0"):
        return None
    return b"s" + bytes(span.trace_id) + span_id
