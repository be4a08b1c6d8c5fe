"""Study statistics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hicra.study import stats


def test_t_interval_matches_hand_computation():
    # mean 2.5, s = √(5/3) = 1.290994, s/√4 = 0.645497, t_{0.975, 3} = 3.182446 → half-width 2.054260
    iv = stats.t_interval([1, 2, 3, 4])
    assert iv.mean == 2.5 and iv.n == 4
    assert iv.low == pytest.approx(2.5 - 2.054260, abs=1e-5) and iv.high == pytest.approx(2.5 + 2.054260, abs=1e-5)
    assert stats.t_interval([1, 2, 3, 4], 0.90).half_width == pytest.approx(2.353363 * 0.645497, abs=1e-5)
    single = stats.t_interval([7.0, math.nan])
    assert single.mean == 7.0 and single.n == 1 and math.isnan(single.low)


def test_sign_flip_pvalue_enumerates_every_pattern():
    # d = (1, 2, 3): the 8 flipped means are ±2, ±4/3, ±2/3, 0, 0; |mean| ≥ 2 for 2 of them
    assert stats.sign_flip_pvalue([1, 2, 3]) == 0.25
    assert stats.sign_flip_pvalue([1, -1]) == 1.0  # means 0, ±1, 0: all ≥ |0|
    assert stats.sign_flip_pvalue([0.5] * 5) == 2 / 32


def test_paired_difference_interval_and_test():
    # d = (2, 3, 4): mean 3, s = 1, t_{0.975, 2} = 4.302653 → half-width 4.302653/√3 = 2.484138
    diff = stats.paired_difference([3, 5, 7], [1, 2, 3])
    assert diff.interval.mean == 3 and diff.interval.half_width == pytest.approx(2.484138, abs=1e-6)
    assert diff.p_value == 0.25 and diff.test == "sign-flip (exact)" and diff.diffs == (2.0, 3.0, 4.0)
    many = stats.paired_difference(list(range(1, 15)), [0] * 14, exact_max=12, resamples=2000)
    assert many.test == "bootstrap" and many.p_value < 0.01
    with pytest.raises(ValueError, match="equal lengths"):
        stats.paired_difference([1, 2], [1])


def test_problem_bootstrap_pools_seeds():
    a = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    b = np.zeros((2, 4))
    # per-problem Δ = (1, 1, 0, 0): mean 0.5; a resample has Δ ≤ 0 only if it draws no 1: (1/2)^4 → p = 2/16
    boot = stats.problem_bootstrap(a, b, resamples=40_000, seed=1)
    assert boot["mean"] == 0.5 and boot["problems"] == 4 and boot["seeds"] == 2
    assert boot["p_value"] == pytest.approx(0.125, abs=0.01)
    assert boot["low"] == 0.0 and boot["high"] == 1.0
    same = stats.problem_bootstrap(a, a, resamples=200)
    assert same["mean"] == 0 and same["p_value"] == 1.0


def test_seed_band_ignores_missing_values():
    mean, low, high = stats.band([[1.0, math.nan], [3.0, 5.0]])
    assert list(mean) == [2.0, 5.0] and list(low) == [1.0, 5.0] and list(high) == [3.0, 5.0]
