"""Did an error rate rise? Exact tests for counts, valid at low volume.

Errors in a window are a Poisson count with exposure = page views (re-weighted by sample
rate). Two Poisson rates are compared with the conditional binomial test: given the total
x_now + x_before, x_now ~ Binomial(total, e_now / (e_now + e_before)) when the rates are
equal. Intervals are Jeffreys (Beta) intervals, which behave at 0 and small counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats  # type: ignore[import-untyped]


@dataclass(frozen=True)
class RateSpike:
    errors_now: float
    exposure_now: float
    errors_before: float
    exposure_before: float
    p_value: float

    @property
    def rate_now(self) -> float:
        return self.errors_now / max(self.exposure_now, 1e-9)

    @property
    def rate_before(self) -> float:
        return self.errors_before / max(self.exposure_before, 1e-9)

    @property
    def ratio(self) -> float:
        """Rise factor; a rate from zero counts as half an error before (a finite ratio)."""
        before = max(self.errors_before, 0.5) / max(self.exposure_before, 1e-9)
        return self.rate_now / before


def rate_spike(
    errors_now: float, exposure_now: float, errors_before: float, exposure_before: float
) -> RateSpike:
    """One-sided test that the current rate exceeds the baseline rate."""
    x_now, x_before = round(errors_now), round(errors_before)
    total = x_now + x_before
    share = exposure_now / max(exposure_now + exposure_before, 1e-9)
    if total == 0 or exposure_now <= 0:
        p_value = 1.0
    else:
        p_value = float(stats.binomtest(x_now, total, share, alternative="greater").pvalue)
    return RateSpike(errors_now, exposure_now, errors_before, exposure_before, p_value)


def jeffreys_interval(events: float, trials: float, level: float = 0.95) -> tuple[float, float]:
    """Interval for a proportion (errors per page view), sound at 0 and tiny counts."""
    alpha = 1 - level
    a, b = events + 0.5, max(trials - events, 0) + 0.5
    low = 0.0 if events <= 0 else float(stats.beta.ppf(alpha / 2, a, b))
    high = 1.0 if events >= trials else float(stats.beta.ppf(1 - alpha / 2, a, b))
    return low, high


def is_spike(spike: RateSpike, *, min_ratio: float, min_count: int, max_p_value: float) -> bool:
    return (
        spike.errors_now >= min_count and spike.ratio >= min_ratio and spike.p_value <= max_p_value
    )
