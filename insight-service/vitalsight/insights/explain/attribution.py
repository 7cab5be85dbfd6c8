"""The "where": which dimension values carry a change.

For each dimension (device, browser, country, network), every value with enough traffic on
both sides is classed as regressed (it rose by at least half the detection threshold) or
steady. A dimension joins the scope when some values regressed and some steady ones carry
real traffic: "mobile only". When every value regressed, the change is everywhere and the
dimension stays out ("all devices").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

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


def traffic_mix_shift(
    breakdowns: Iterable[Breakdown], *, min_samples: int, min_change_pct: float
) -> MixShift | None:
    """The mix explains a rise when, along one dimension, no value got slower by itself but a
    slower-than-typical value gained share (say more 3g traffic, every network as fast as
    before). Each dimension is judged on its own: a rise that is real within some network
    is not a network-mix effect, whatever happened along other dimensions.
    """
    items = [item for item in breakdowns if item.value]
    best: MixShift | None = None
    for dimension in sorted({item.dimension for item in items}):
        values = [i for i in items if i.dimension == dimension]
        compared = [i for i in values if min(i.samples_now, i.samples_before) >= min_samples]
        if any(_rise_pct(i) >= min_change_pct / 2 for i in compared):
            continue  # some value is slower by itself along this dimension
        total_now = sum(i.samples_now for i in values)
        total_before = sum(i.samples_before for i in values)
        if not total_now or not total_before:
            continue
        typical = _weighted_q75(values)
        for item in values:
            shift = MixShift(
                dimension,
                item.value,
                item.samples_before / total_before,
                item.samples_now / total_now,
            )
            slower = max(item.q75_before, item.q75_now) > typical
            gained = shift.share_now - shift.share_before
            if (
                slower
                and gained >= MIN_SHARE_RISE
                and (best is None or gained > best.share_now - best.share_before)
            ):
                best = shift
    return best


def _weighted_q75(values: list[Breakdown]) -> float:
    weight = sum(i.samples_before for i in values)
    return sum(i.q75_before * i.samples_before for i in values) / max(weight, 1)
