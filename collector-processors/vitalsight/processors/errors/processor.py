"""The errors processor: parse, symbolicate and fingerprint `exception` events.

For each `exception` log event (or log record carrying `exception.type`) and each
`exception` span event, it keeps `exception.stacktrace` as sent and adds:

- `vitalsight.error.fingerprint`: the group key (`stacktrace.fingerprint`), read by rum_errors
- `vitalsight.error.stacktrace_resolved`: the stack in V8 format with original locations,
  when a source map resolved at least one frame
- `vitalsight.error.top_frame`: `file:line function` of the first in-app frame (original
  when resolved)
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Protocol

from vitalsight.processors import otlp_records
from vitalsight.processors.errors.config import ErrorsConfig
from vitalsight.processors.errors.sourcemaps import SourceMapStore
from vitalsight.processors.errors.stacktrace import (
    Frame,
    ResolvedFrame,
    fingerprint,
    format_v8,
    is_in_app,
    parse_stack,
)
from vitalsight.processors.request_view import RecordInView, RequestView
from vitalsight.receivers.signals import LOGS, Signal

logger = logging.getLogger(__name__)

EXCEPTION_EVENT = "exception"
TYPE = "exception.type"
MESSAGE = "exception.message"
STACKTRACE = "exception.stacktrace"
FINGERPRINT = "vitalsight.error.fingerprint"
STACKTRACE_RESOLVED = "vitalsight.error.stacktrace_resolved"
TOP_FRAME = "vitalsight.error.top_frame"
#: Distinct resolved stacks remembered: an error storm repeats one stack many times.
RESOLVED_STACKS_CACHED = 1024


class ErrorsProcessor:
    """Adds fingerprint, resolved stack and top frame to exception events, in place."""

    def __init__(self, config: ErrorsConfig) -> None:
        self.config = config
        self.store = (
            SourceMapStore(config.sourcemaps_dir, cache_size=config.cache_size)
            if config.sourcemaps_dir
            else None
        )
        #: Exception events seen, and frames a source map resolved (for self-metrics).
        self.errors_seen = 0
        self._resolved_stacks: OrderedDict[tuple[str, str, str], list[ResolvedFrame | None]] = (
            OrderedDict()
        )
        self.frames_resolved = 0

    def counters(self) -> dict[str, int]:
        """What it did since start-up, by outcome, for the server's /metrics."""
        return {"errors_seen": self.errors_seen, "frames_resolved": self.frames_resolved}

    def process(self, signal: Signal, request: Any) -> Any:
        if RequestView.supports(signal):
            self.process_view(RequestView(signal, request))
        return request

    def process_view(self, view: RequestView) -> None:
        """Annotate the exceptions of a logs or traces request walked by the pipeline."""
        if view.signal is LOGS:
            for resource, scope, index in view.records():
                record = scope.records[index]
                if record.event_name == EXCEPTION_EVENT or (
                    not record.event_name and TYPE in scope.shapes[index]
                ):
                    # rum_errors reads the message from Body when the attribute is empty.
                    body = record.body.string_value if record.HasField("body") else ""
                    scopes: tuple[Any, ...] = (record.attributes, resource.attributes)
                    self._annotate(RecordInView(scope, index), scopes, body)
        else:
            for resource, scope, index in view.records():
                span = scope.records[index]
                for span_event in span.events:
                    if span_event.name == EXCEPTION_EVENT:
                        scopes = (span_event.attributes, span.attributes, resource.attributes)
                        self._annotate(_Plain(span_event.attributes), scopes, "")

    def _annotate(self, target: _Target, scopes: tuple[Any, ...], body: str) -> None:
        self.errors_seen += 1
        attributes = scopes[0]
        error_type = otlp_records.get_str(attributes, TYPE) or ""
        message = otlp_records.get_str(attributes, MESSAGE) or body
        stack = otlp_records.get_str(attributes, STACKTRACE) or ""
        frames: list[Frame] = []
        resolved: list[ResolvedFrame | None] = []
        try:
            frames, resolved = self._frames(stack, scopes)
        except Exception:  # never fail the pipeline on one odd stack: fingerprint without it
            logger.exception("errors: could not process a stack trace")
            frames, resolved = [], []
        target.set_str(
            FINGERPRINT,
            fingerprint(error_type, message, frames, resolved, self.config.fingerprint_frames),
        )
        if any(resolved):
            target.set_str(STACKTRACE_RESOLVED, format_v8(frames, resolved))
        top = _top_frame(frames, resolved)
        if top:
            target.set_str(TOP_FRAME, top)

    def _frames(
        self, stack: str, scopes: tuple[Any, ...]
    ) -> tuple[list[Frame], list[ResolvedFrame | None]]:
        """Parsed and resolved frames; the same stack of the same release is resolved once.

        Only stacks that a map resolved are cached: an uploaded release's maps do not
        change, while a stack without maps may get them on the next upload.
        """
        frames = parse_stack(stack, self.config.max_frames)
        if self.store is None or not frames:
            return frames, [None] * len(frames)
        app = _lookup(scopes, self.config.app_attribute)
        release = _lookup(scopes, self.config.release_attribute)
        if not app or not release:
            return frames, [None] * len(frames)
        key = (app, release, stack)
        cached = self._resolved_stacks.get(key)
        if cached is not None:
            self._resolved_stacks.move_to_end(key)
            self.frames_resolved += sum(1 for r in cached if r is not None)
            return frames, cached
        resolved = self._resolve(frames, app, release)
        if any(resolved):
            self._resolved_stacks[key] = resolved
            if len(self._resolved_stacks) > RESOLVED_STACKS_CACHED:
                self._resolved_stacks.popitem(last=False)
        return frames, resolved

    def _resolve(self, frames: list[Frame], app: str, release: str) -> list[ResolvedFrame | None]:
        assert self.store is not None
        resolved: list[ResolvedFrame | None] = [None] * len(frames)
        for index, frame in enumerate(frames):
            loaded = self.store.get(app, release, frame.file)
            if loaded is None:
                continue
            caller = frames[index + 1] if index + 1 < len(frames) else None
            resolved[index] = loaded.resolve(frame, caller)
            if resolved[index] is not None:
                self.frames_resolved += 1
        return resolved


class _Target(Protocol):
    def set_str(self, key: str, text: str) -> None: ...


class _Plain:
    """A span event's attributes (not part of the view)."""

    __slots__ = ("attributes",)

    def __init__(self, attributes: Any) -> None:
        self.attributes = attributes

    def set_str(self, key: str, text: str) -> None:
        otlp_records.set_str(self.attributes, key, text)


def _lookup(scopes: tuple[Any, ...], key: str) -> str | None:
    for attributes in scopes:
        value = otlp_records.get_str(attributes, key)
        if value:
            return value
    return None


def _top_frame(frames: list[Frame], resolved: list[ResolvedFrame | None]) -> str:
    """`file:line function` of the first in-app frame (else the first frame)."""
    shown: list[Frame | ResolvedFrame] = [r or f for f, r in zip(frames, resolved, strict=True)]
    for frame in shown:
        if is_in_app(frame.file):
            break
    else:
        if not shown:
            return ""
        frame = shown[0]
    return f"{frame.file}:{frame.line} {frame.function}".rstrip()
