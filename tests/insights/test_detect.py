"""Detectors on crafted series: they fire on real changes and stay quiet on noise."""

from __future__ import annotations

import numpy as np
import pytest

from vitalsight.insights.detect.anomaly import anomaly_probability
from vitalsight.insights.detect.changepoint import last_change_point
from vitalsight.insights.detect.error_rate import (
    is_spike,
    jeffreys_interval,
    rate_spike,
)
from vitalsight.insights.detect.percentile_shift import (
    Percentiles,
    is_regression,
    percentile_shift,
)
from vitalsight.insights.detect.seasonal import robust_score


def _summary(values: np.ndarray, *, local: bool = True) -> Percentiles:
    q50, q65, q75, q85, q95 = (float(q) for q in np.quantile(values, [0.5, 0.65, 0.75, 0.85, 0.95]))
    if not local:
        return Percentiles(len(values), q50, q75, q95)
    return Percentiles(len(values), q50, q75, q95, q65, q85)


def _lcp(rng: np.random.Generator, n: int, median: float = 1900.0) -> np.ndarray:
    return median * rng.lognormal(0.0, 0.4, n)


def test_a_38_percent_rise_at_modest_volume_is_a_regression() -> None:
    rng = np.random.default_rng(1)
    shift = percentile_shift(_summary(_lcp(rng, 80, 1900 * 1.38)), _summary(_lcp(rng, 2000)))
    assert shift.change_pct == pytest.approx(38, abs=12)
    assert is_regression(shift, min_change_pct=15, min_z=3.5, min_delta=100)


@pytest.mark.parametrize("local", [True, False])
def test_noise_raises_almost_nothing_over_many_trials(local: bool) -> None:
    rng = np.random.default_rng(2)
    hits = 0
    for _ in range(2000):
        shift = percentile_shift(
            _summary(_lcp(rng, 60), local=local), _summary(_lcp(rng, 1000), local=local)
        )
        hits += is_regression(shift, min_change_pct=15, min_z=3.5, min_delta=100)
    assert hits <= 2  # the z threshold holds for quantiles at the minimum traffic


def test_z_scores_are_calibrated_under_the_null() -> None:
    rng = np.random.default_rng(8)
    z = [
        percentile_shift(_summary(_lcp(rng, 60)), _summary(_lcp(rng, 1000))).z for _ in range(2000)
    ]
    assert 0.8 < float(np.std(z)) < 1.25  # a standard normal, near enough
    assert float(np.mean(np.asarray(z) > 2.33)) < 0.02  # ~1% one-sided at 2.33


def test_a_new_release_at_the_minimum_traffic_is_judged_on_the_shared_density() -> None:
    # 60 rows cannot estimate their own density at q75: on their own they halve z about half
    # of the time. Pooled with the concurrent baseline's (the shared distribution under "no
    # change"), a 40% rise at 60 rows is found most of the time, and noise stays calibrated.
    def found(pooled: bool, seed: int, factor: float) -> float:
        rng = np.random.default_rng(seed)
        shifts = [
            percentile_shift(
                _summary(_lcp(rng, 60, 1900 * factor)), _summary(_lcp(rng, 1000)), pooled=pooled
            )
            for _ in range(500)
        ]
        return float(
            np.mean([is_regression(x, min_change_pct=15, min_z=4, min_delta=100) for x in shifts])
        )

    assert found(pooled=True, seed=10, factor=1.4) >= 0.7
    assert found(pooled=False, seed=10, factor=1.4) < found(pooled=True, seed=10, factor=1.4)
    assert found(pooled=True, seed=11, factor=1.0) <= 0.004
    rng = np.random.default_rng(12)
    z = [
        percentile_shift(_summary(_lcp(rng, 60)), _summary(_lcp(rng, 1000)), pooled=True).z
        for _ in range(2000)
    ]
    assert 0.8 < float(np.std(z)) < 1.25


def test_a_skewed_metric_tripling_is_significant_with_local_density() -> None:
    rng = np.random.default_rng(9)
    # CLS-like: most views near zero, a long tail
    before = np.where(rng.random(2000) < 0.5, 0.0, rng.exponential(0.08, 2000))
    after = np.where(rng.random(300) < 0.5, 0.0, rng.exponential(0.25, 300))
    shift = percentile_shift(_summary(after), _summary(before))
    assert shift.z >= 3.5 and shift.change_pct > 100
    wide = percentile_shift(_summary(after, local=False), _summary(before, local=False))
    assert wide.z < shift.z  # q50..q95 spans the tail: too conservative at q75


def test_a_large_but_tiny_sample_change_is_not_significant() -> None:
    rng = np.random.default_rng(3)
    shift = percentile_shift(_summary(_lcp(rng, 6, 2600)), _summary(_lcp(rng, 1000)))
    assert shift.z < 3.5


def test_an_absolute_floor_ignores_small_moves_of_small_values() -> None:
    rng = np.random.default_rng(4)
    shift = percentile_shift(_summary(_lcp(rng, 5000, 60)), _summary(_lcp(rng, 5000, 40)))
    assert shift.z > 10 and shift.change_pct > 40
    assert not is_regression(shift, min_change_pct=15, min_z=3.5, min_delta=100)


def test_a_new_error_at_low_volume_is_a_spike() -> None:
    spike = rate_spike(errors_now=9, exposure_now=60, errors_before=2, exposure_before=3000)
    assert spike.ratio > 100
    assert spike.p_value < 1e-10
    assert is_spike(spike, min_ratio=2, min_count=8, max_p_value=1e-5)


def test_the_same_rate_is_no_spike_and_few_errors_are_never_enough() -> None:
    same = rate_spike(errors_now=10, exposure_now=1000, errors_before=100, exposure_before=10000)
    assert same.p_value > 0.3
    assert not is_spike(same, min_ratio=2, min_count=8, max_p_value=1e-5)
    few = rate_spike(errors_now=3, exposure_now=50, errors_before=0, exposure_before=5000)
    assert few.p_value < 1e-5
    assert not is_spike(few, min_ratio=2, min_count=8, max_p_value=1e-5)


def test_error_rate_tests_hold_their_false_positive_rate() -> None:
    rng = np.random.default_rng(5)
    p_values = [rate_spike(rng.poisson(5), 500, rng.poisson(50), 5000).p_value for _ in range(3000)]
    assert np.mean(np.asarray(p_values) < 0.01) <= 0.01  # exact test: never anti-conservative


def test_jeffreys_interval_is_sound_at_zero_and_small_counts() -> None:
    low, high = jeffreys_interval(0, 40)
    assert low == 0.0 and 0.01 < high < 0.1
    low, high = jeffreys_interval(3, 40)
    assert low < 3 / 40 < high


def test_robust_score_ignores_one_odd_baseline() -> None:
    assert robust_score(2000, [1900, 1950, 1920, 4000], floor=30) < 3
    assert robust_score(2600, [1900, 1950, 1920, 4000], floor=30) > 10
    assert robust_score(2600, [], floor=30) == 0.0


def test_change_point_dates_a_step_and_ignores_noise() -> None:
    rng = np.random.default_rng(6)
    step = np.concatenate([rng.normal(1900, 60, 40), rng.normal(2600, 60, 12)])
    assert last_change_point(step.tolist()) in (39, 40, 41)
    assert last_change_point(rng.normal(1900, 60, 52).tolist()) is None
    assert last_change_point([1.0, 2.0]) is None


def test_anomaly_probability_flags_a_joint_move() -> None:
    rng = np.random.default_rng(7)
    history = rng.multivariate_normal([7.5, 5.0, 6.0], np.diag([0.01, 0.02, 0.01]), 60).tolist()
    assert anomaly_probability(history, [7.5, 5.0, 6.0]) < 0.9
    assert anomaly_probability(history, [7.9, 5.5, 6.4]) > 0.999
    assert anomaly_probability(history[:5], [7.9, 5.5, 6.4]) == 0.0
