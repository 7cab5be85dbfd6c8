"""How sure we are: effect size, volume and consistency, each mapped to 0..1.

- effect: how far past the detection threshold the change is (z beyond the minimum);
- volume: samples relative to the minimum traffic (more data, firmer estimate);
- consistency: the share of baselines that agree, whether a cause was found, and how unusual
  the route's whole multi-metric state is (detect.anomaly), 1 when not assessed.
The product is squashed so one weak factor caps the whole; labels at 0.45 and 0.75.
"""

from __future__ import annotations

import math


def confidence(
    *,
    z: float,
    min_z: float,
    samples: int,
    min_samples: int,
    agreeing: int,
    compared: int,
    cause_found: bool,
    anomaly: float = 1.0,
) -> float:
    effect = 1 - math.exp(-max(z, 0.0) / max(min_z, 1e-9))
    volume = 1 - math.exp(-samples / max(min_samples, 1))
    consistency = (agreeing / max(compared, 1)) * (1.0 if cause_found else 0.8)
    consistency *= 0.7 + 0.3 * anomaly  # the route's other metrics moved unusually too
    score = math.sqrt(max(0.0, effect * volume * consistency))
    return round(min(1.0, score), 2)


def confidence_label(value: float) -> str:
    if value >= 0.75:
        return "high"
    if value >= 0.45:
        return "medium"
    return "low"
