"""The "why": correlating a regression with what changed over the same windows.

Each finder looks at one kind of cause and returns its strongest candidate (or None):
endpoint latency on the routes that call it (LCP, FCP waiting on data), resource size by
release (bundle growth), long-task / LoAF scripts (INP), error fingerprints (error spikes).
The engine tries them in the order that suits the metric and keeps the first found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from vitalsight.insights.card import CauseKind, Evidence
from vitalsight.insights.detect.percentile_shift import Percentiles, percentile_shift
from vitalsight.insights.queries import Contribution, Window

ENDPOINT_MIN_RISE_MS = 50.0
ENDPOINT_MIN_RISE_PCT = 20.0
ENDPOINT_MIN_Z = 3.0
BUNDLE_MIN_GROWTH_PCT = 10.0
BUNDLE_MIN_GROWTH_BYTES = 10_000.0
LONG_TASK_MIN_RISE_MS = 20.0  # blocking ms per page view
LONG_TASK_MIN_RISE_PCT = 50.0
MIN_RESOURCE_SAMPLES = 5


@dataclass(frozen=True)
class Cause:
    kind: CauseKind
    subject: str
    text: str
    evidence: list[Evidence] = field(default_factory=list)


def short_name(url: str) -> str:
    """`https://cdn.example/static/app.js` → `app.js` (what people call the file)."""
    path = urlsplit(url).path or url
    return path.rstrip("/").rsplit("/", 1)[-1] or url


def slow_endpoint(pairs: Iterable[tuple[Window, Window]]) -> Cause | None:
    """The endpoint (now, before) whose latency rose most, significantly."""
    best: tuple[float, Window, Window] | None = None
    for now, before in pairs:
        shift = percentile_shift(_percentiles(now), _percentiles(before))
        rise = now.q95 - before.q95
        rise_pct = 100.0 * rise / max(before.q95, 1e-9)
        significant = shift.z >= ENDPOINT_MIN_Z and rise >= ENDPOINT_MIN_RISE_MS
        if significant and rise_pct >= ENDPOINT_MIN_RISE_PCT and (best is None or rise > best[0]):
            best = (rise, now, before)
    if best is None:
        return None
    rise, now, before = best
    evidence = Evidence(
        kind="endpoint_latency",
        subject=now.series,
        metric="p95_ms",
        before=round(before.q95),
        after=round(now.q95),
        unit="ms",
        detail=f"p95 rose {round(rise)} ms",
    )
    text = f"{now.series} p95 rose {round(rise)} ms and the page waits on it"
    return Cause(CauseKind.SLOW_ENDPOINT, now.series, text, [evidence])


def bundle_growth(sizes: Iterable[Contribution]) -> Cause | None:
    """The script or stylesheet whose transfer size grew most."""
    grown = [
        item
        for item in sizes
        if min(item.samples_now, item.samples_before) >= MIN_RESOURCE_SAMPLES
        and item.now - item.before >= BUNDLE_MIN_GROWTH_BYTES
        and 100.0 * (item.now - item.before) / max(item.before, 1.0) >= BUNDLE_MIN_GROWTH_PCT
    ]
    if not grown:
        return None
    top = max(grown, key=lambda item: item.now - item.before)
    name = short_name(top.subject)
    evidence = Evidence(
        kind="resource_size",
        subject=name,
        metric="transfer_kb",
        before=round(top.before / 1000),
        after=round(top.now / 1000),
        unit="KB",
        detail=top.subject,
    )
    growth = round(100.0 * (top.now - top.before) / max(top.before, 1.0))
    text = f"{name} grew {growth}% ({round(top.before / 1000)} → {round(top.now / 1000)} KB)"
    return Cause(CauseKind.BUNDLE_GROWTH, name, text, [evidence])


def long_tasks(scripts: Iterable[Contribution]) -> Cause | None:
    """The script whose long-task blocking time per page view rose most."""
    risen = [
        item
        for item in scripts
        if item.samples_now >= MIN_RESOURCE_SAMPLES
        and item.now - item.before >= LONG_TASK_MIN_RISE_MS
        and 100.0 * (item.now - item.before) / max(item.before, 1.0) >= LONG_TASK_MIN_RISE_PCT
    ]
    if not risen:
        return None
    top = max(risen, key=lambda item: item.now - item.before)
    name = short_name(top.subject)
    evidence = Evidence(
        kind="long_task_script",
        subject=name,
        metric="blocking_ms_per_view",
        before=round(top.before),
        after=round(top.now),
        unit="ms",
        detail=top.subject,
    )
    text = (
        f"long tasks from {name} block {round(top.now)} ms per page view "
        f"(was {round(top.before)} ms, LoAF attribution)"
    )
    return Cause(CauseKind.LONG_TASKS, name, text, [evidence])


def _percentiles(window: Window) -> Percentiles:
    return Percentiles(window.samples, window.q50, window.q75, window.q95, window.q65, window.q85)
