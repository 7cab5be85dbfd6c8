"""Multi-metric anomaly score per route: is this mix of vitals unusual for the route?

A route's state is a vector (log p75 of LCP, INP, TTFB, ..., error rate); its history is
the same vector over past windows. The score is the robust Mahalanobis distance
(scikit-learn's MinCovDet) of the current vector from the history, so one metric moving a
lot or several moving together a little both stand out, and past incidents in the history
do not inflate the covariance.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats  # type: ignore[import-untyped]
from sklearn.covariance import MinCovDet  # type: ignore[import-untyped]


def anomaly_probability(history: Sequence[Sequence[float]], current: Sequence[float]) -> float:
    """P(distance ≤ observed) under the history's robust Gaussian: near 1 is anomalous.

    Returns 0 when the history is too short to estimate a covariance.
    """
    data = np.asarray(history, dtype=float)
    point = np.asarray(current, dtype=float).reshape(1, -1)
    if data.ndim != 2 or data.shape[0] < 3 * data.shape[1] + 2:
        return 0.0
    with warnings.catch_warnings():
        # Degenerate (constant) history columns make MCD warn; the jitter below handles it.
        warnings.simplefilter("ignore")
        jitter = np.random.default_rng(0).normal(0, 1e-6, data.shape)
        model = MinCovDet(random_state=0).fit(data + jitter)
        distance = float(model.mahalanobis(point)[0])
    return float(stats.chi2.cdf(distance, df=data.shape[1]))
