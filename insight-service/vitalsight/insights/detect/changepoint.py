"""When did a per-minute series change? Change-point detection with `ruptures` (PELT).

Used to date a detected change ("since 14:02") from per-minute values, so the card and the
evidence compare the segment after the change with the one before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import ruptures  # type: ignore[import-untyped]


def last_change_point(series: Sequence[float], *, min_size: int = 2) -> int | None:
    """Index of the first point of the last segment, or None when the series is flat.

    The penalty is BIC-like on the series' robust noise level, so stationary noise yields no
    break whatever its scale.
    """
    values = np.asarray(series, dtype=float)
    if len(values) < 2 * min_size:
        return None
    noise = float(np.median(np.abs(np.diff(values)))) / 0.9539 + 1e-9  # MAD of differences
    penalty = 3.0 * noise**2 * np.log(len(values))
    algo = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(values.reshape(-1, 1))
    breaks = algo.predict(pen=penalty)[:-1]  # the last break is always len(values)
    return int(breaks[-1]) if breaks else None
