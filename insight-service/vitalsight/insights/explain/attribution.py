"""The "where": which dimension values carry a change.

For each dimension (device, browser, country, network), every value with enough traffic on
both sides is classed as regressed (it rose by at least half the detection threshold) or
steady. A dimension joins the scope when some values regressed and some steady ones carry
real traffic: "mobile only". When every value regressed, the change is everywhere and the
dimension stays out ("all devices").
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from vitalsight.insights.detect.percentile_shift import Percentiles, percentile_shift
from vitalsight.insights.queries import Breakdown


def scope_of_change(
    breakdowns: Iterable[Breakdown], *, min_samples: int, min_change_pct: float
) -> dict[str, str]:
    by_dimension: dict[str, list[Breakdown]] = defaultdict(list)
    for item in breakdowns:
        if item.value and min(item.samples_now, item.samples_before) >= min_samples:
            by_dimension[item.dimension].append(item)
    scope: dict[str, str] = {}
    for dimension, items in sorted(by_dimension.items()):
        regressed = sorted(i.value for i in items if _rise_pct(i) >= min_change_pct / 2)
        steady = [i for i in items if _rise_pct(i) < min_change_pct / 4]
        if regressed and steady:
            scope[dimension] = ",".join(regressed)
    return scope


def _rise_pct(item: Breakdown) -> float:
    return 100.0 * (item.q75_now - item.q75_before) / max(abs(item.q75_before), 1e-9)


@dataclass(frozen=True)
class MixShift:
    """A segment that is slower anyway and now carries more of the traffic."""

    dimension: str
    value: str
    share_before: float
    share_now: float


MIN_SHARE_RISE = 0.10
MIN_OWN_RISE_Z = 2.0  # a value "got slower by itself" only when its own rise is this clear


def _rose_by_itself(item: Breakdown, min_change_pct: float) -> bool:
    """The value's own p75 rose by half the threshold, and (when its spread is known) not
    by chance: at a few dozen rows a segment's p75 wobbles by that much anyway."""
    if _rise_pct(item) < min_change_pct / 2:
        return False
    known = (item.q65_now, item.q85_now, item.q65_before, item.q85_before)
    if any(q is None or math.isnan(q) for q in known):
        return True
    now = Percentiles(item.samples_now, item.q75_now, item.q75_now, item.q75_now)
    before = Percentiles(item.samples_before, item.q75_before, item.q75_before, item.q75_before)
    now = replace(now, q65=item.q65_now, q85=item.q85_now)
    before = replace(before, q65=item.q65_before, q85=item.q85_before)
    return percentile_shift(now, before).z >= MIN_OWN_RISE_Z


def traffic_mix_shift(
    breakdowns: Iterable[Breakdown], *, min_samples: int, min_change_pct: float
) -> MixShift | None:
    """The mix explains a rise when, along one dimension, no value got slower by itself
    (clearly: a few dozen rows wobble) but a slower-than-typical value, or the slower values
    together, gained share (say more 3g and 2g traffic, every network as fast as before).
    Each dimension is judged on its own: a rise that is real within some network
    is not a network-mix effect, whatever happened along other dimensions.
    """
    items = [item for item in breakdowns if item.value]
    best: MixShift | None = None
    for dimension in sorted({item.dimension for item in items}):
        values = [i for i in items if i.dimension == dimension]
        compared = [i for i in values if min(i.samples_now, i.samples_before) >= min_samples]
        if any(_rose_by_itself(i, min_change_pct) for i in compared):
            continue  # some value is slower by itself along this dimension
        total_now = sum(i.samples_now for i in values)
        total_before = sum(i.samples_before for i in values)
        if not total_now or not total_before:
            continue
        typical = _weighted_q75(values)
        slower = [i for i in values if max(i.q75_before, i.q75_now) > typical]
        # each slower value, and the slower values together (3g and 2g gaining a few points
        # each is one shift)
        groups = [[i] for i in slower] + ([slower] if len(slower) > 1 else [])
        shifts = [
            MixShift(
                dimension,
                ",".join(sorted(i.value for i in group)),
                sum(i.samples_before for i in group) / total_before,
                sum(i.samples_now for i in group) / total_now,
            )
            for group in groups
        ]
        for shift in shifts:
            gained = shift.share_now - shift.share_before
            if gained >= MIN_SHARE_RISE and (
                best is None or gained > best.share_now - best.share_before
            ):
                best = shift
    return best


def _weighted_q75(values: list[Breakdown]) -> float:
    weight = sum(i.samples_before for i in values)
    return sum(i.q75_before * i.samples_before for i in values) / max(weight, 1)
