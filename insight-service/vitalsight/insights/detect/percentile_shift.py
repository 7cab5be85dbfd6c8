"""Is a percentile higher now than in a baseline? Effect size AND significance.

The standard error of a sample quantile is sqrt(p(1-p)/n) / f(q) (asymptotic normality of
quantiles); the density f at the 75th percentile is estimated from the spacing of its
neighbouring quantiles q65 and q85, which the rollups' TDigest states answer
(Siddiqui-Bloch-Gastwirth), so the test needs no raw rows. Two concurrent samples of one
audience can share (pool) the density. `n` is the number of rows seen
(not the re-weighted count): sampling does not add information.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

P = 0.75


@dataclass(frozen=True)
class Percentiles:
    samples: int
    q50: float
    q75: float
    q95: float
    q65: float | None = None  # neighbours of q75 for its local density, when known
    q85: float | None = None


@dataclass(frozen=True)
class Shift:
    before: float
    after: float
    change_pct: float
    z: float

    @property
    def delta(self) -> float:
        return self.after - self.before


def density(summary: Percentiles) -> float:
    """Density at the 75th percentile, from q65..q85 when known (bandwidth 0.1 either side);
    the wider q50..q95 span is the fallback, conservative for skewed metrics such as CLS."""
    if summary.q65 is not None and summary.q85 is not None:
        levels, span = 0.85 - 0.65, summary.q85 - summary.q65
    else:
        levels, span = 0.95 - 0.5, summary.q95 - summary.q50
    return levels / max(span, abs(summary.q75) * 0.02, 1e-9)


def standard_error(summary: Percentiles, at_density: float | None = None) -> float:
    """Standard error of the 75th percentile estimate (its own density unless given)."""
    f = density(summary) if at_density is None else at_density
    return math.sqrt(P * (1 - P) / max(summary.samples, 1)) / f


def percentile_shift(current: Percentiles, baseline: Percentiles, *, pooled: bool = False) -> Shift:
    """The rise of the 75th percentile from `baseline` to `current`, with its z score.

    Each side's standard error comes from its own density, unless `pooled`: for two samples
    of one audience over the same minutes (a new release beside the previous one), "no
    change" means one shared distribution, whose density at q75 is then pooled from both
    sides by rows. The smaller side (a new release at min_samples) has too few rows between
    its q65 and q85 to estimate the density alone: by chance it comes out wide and halves z.
    Comparisons across time keep their own densities: the audience mix moves between
    periods, and the wider error of the smaller side is the caution that calls for."""
    if pooled:
        rows = max(current.samples, 1) + max(baseline.samples, 1)
        spacing = (
            max(current.samples, 1) / density(current)
            + max(baseline.samples, 1) / density(baseline)
        ) / rows
        scale = math.hypot(
            standard_error(current, 1.0 / spacing), standard_error(baseline, 1.0 / spacing)
        )
    else:
        scale = math.hypot(standard_error(current), standard_error(baseline))
    change_pct = 100.0 * (current.q75 - baseline.q75) / max(abs(baseline.q75), 1e-9)
    return Shift(
        before=baseline.q75,
        after=current.q75,
        change_pct=change_pct,
        z=(current.q75 - baseline.q75) / scale,
    )


def is_regression(
    shift: Shift, *, min_change_pct: float, min_z: float, min_delta: float = 0.0
) -> bool:
    """Strict: large enough to matter, unlikely to be noise, and above an absolute floor."""
    return shift.change_pct >= min_change_pct and shift.z >= min_z and shift.delta >= min_delta
