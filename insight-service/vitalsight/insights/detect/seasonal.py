"""Seasonal robust score: how far is now from the same time on comparable days?

The score is (current - median) / (1.4826 * MAD) over the comparable values (same hour
yesterday, same weekday-hour last week, the recent hours), with the MAD floored by the
current value's own standard error so two near-identical baselines cannot make noise look
huge. Median and MAD ignore one odd baseline (a past incident) where a mean would not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAD_TO_SIGMA = 1.4826


def robust_score(current: float, comparable: Sequence[float], floor: float) -> float:
    """Robust z of `current` against `comparable` values; 0 when there is nothing to compare."""
    if not comparable:
        return 0.0
    values = np.asarray(comparable, dtype=float)
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median))) * MAD_TO_SIGMA
    return (current - median) / max(mad, floor, 1e-9)
