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


def test_tost_matches_closed_form_t_distributions():
    # d = (0, 2), df = 1 (Cauchy, F(t) = 1/2 + atan(t)/π): mean 1, se = 1; margin 2 → t⁺ = −1, t⁻ = 3
    eq = stats.tost([0, 2], margin=2)
    assert eq.mean == 1 and eq.se == pytest.approx(1)
    assert eq.p_upper == pytest.approx(0.25) and eq.p_lower == pytest.approx(0.5 - math.atan(3) / math.pi)
    assert eq.p_value == pytest.approx(0.25)
    # d = (1, 2, 3), df = 2 (F(t) = 1/2 + t / (2√(2 + t²))): mean 2, se = 1/√3
    narrow = stats.tost([1, 2, 3], margin=3)  # t⁺ = −√3 → p⁺ = 0.112702; t⁻ = 5√3 → p⁻ = 0.006537
    assert narrow.p_upper == pytest.approx(0.112702, abs=1e-6) and narrow.p_lower == pytest.approx(0.006537, abs=1e-6)
    # 90% interval (α = 0.05): t_{0.95, 2} = 2.919986 → 2 ± 1.685854, not inside (−3, 3): not equivalent
    assert narrow.low == pytest.approx(0.314146, abs=1e-6) and narrow.high == pytest.approx(3.685854, abs=1e-6)
    wide = stats.tost([1, 2, 3], margin=6)  # t⁺ = −4√3 → p⁺ = 0.010102; t⁻ = 8√3 → p⁻ = 0.002584
    assert wide.p_value == pytest.approx(0.010102, abs=1e-6) and wide.p_lower == pytest.approx(0.002584, abs=1e-6)
    assert wide.low > -6 and wide.high < 6  # p < α ⇔ the (1 − 2α) interval lies inside the margin


def test_tost_degenerate_samples():
    assert stats.tost([1, 1, 1], margin=2).p_value == 0.0  # no spread, inside the margin
    assert stats.tost([1, 1, 1], margin=0.5).p_value == 1.0  # no spread, outside it
    assert math.isnan(stats.tost([1.0, math.nan], margin=1).p_value)
    with pytest.raises(ValueError, match="margin must be > 0"):
        stats.tost([1, 2], margin=0)


def test_verdicts():
    assert stats.verdict(2.0, 0.01, 0.5, 0.05) == "superior"
    assert stats.verdict(-2.0, 0.01, 0.5, 0.05) == "inferior"
    assert stats.verdict(0.3, 0.40, 0.01, 0.05) == "equivalent"
    assert stats.verdict(0.3, 0.40, 0.20, 0.05) == "inconclusive"
    assert stats.verdict(0.3, math.nan, math.nan, 0.05) == "inconclusive"
    assert stats.verdict(0.3, 0.04, 0.01, 0.05) == "superior"  # a difference wins over equivalence
    assert set(stats.VERDICTS) == {"superior", "inferior", "equivalent", "inconclusive"}


def test_holm_textbook_example():
    # sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06, max(1·0.04, 0.06) = 0.06
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    adjusted = stats.holm([0.02, math.nan, 0.04])  # nan is not in the family: m = 2
    assert adjusted[0] == pytest.approx(0.04) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.04)
    assert stats.holm([0.5, 0.6]) == [1.0, 1.0]
    assert stats.holm([]) == []


def test_half_gain_step_on_a_hand_made_curve():
    steps, values = range(1, 9), [0, 0, 10, 20, 30, 40, 40, 40]
    hg = stats.half_gain_step(steps, values, k=2)  # initial 0, final 40: first value ≥ 20 at step 4
    assert (hg.initial, hg.final, hg.gain, hg.step, hg.reason) == (0, 40, 40, 4, "")
    # trailing mean of 2: 0, 5, 15, 25 (ends at step 5) → step 5
    assert stats.half_gain_step(steps, values, k=2, window=2).step == 5
    # k = 3: initial 10/3, final 40, threshold 21.67 → step 5 (value 30); order and nan do not matter
    shuffled = stats.half_gain_step([8, 3, 1, 5, 2, 4, 6, 7, 9], [40, 10, 0, 30, 0, 20, 40, 40, math.nan], k=3)
    assert shuffled.step == 5 and shuffled.initial == pytest.approx(10 / 3)


def test_half_gain_step_undefined_cases():
    assert stats.half_gain_step(range(6), [5, 4, 3, 2, 1, 0], k=2).reason == "no gain"
    flat = stats.half_gain_step(range(4), [3, 3, 3, 3], k=2)
    assert flat.step is None and flat.reason == "no gain" and flat.gain == 0
    assert stats.half_gain_step(range(3), [0, 1, 2], k=2).reason == "too short"
    assert stats.half_gain_step(range(4), [0, 1, math.nan, 2], k=2).reason == "too short"  # nan dropped
    # k = 1: initial 0, final 12, threshold 6; trailing means of 3 are 0 and 4: never reached
    assert stats.half_gain_step(range(4), [0, 0, 0, 12], k=1, window=3).reason == "not reached"
    with pytest.raises(ValueError, match="k >= 1"):
        stats.half_gain_step(range(4), [0, 1, 2, 3], k=0)


def test_phase_difference_reports_undefined_seeds():
    def hg(step):
        return stats.HalfGain(0.0, 1.0 if step else -1.0, step, "" if step else "no gain")

    out = stats.phase_difference({0: hg(3), 1: hg(5), 2: hg(None)}, {0: hg(6), 1: hg(7), 2: hg(4)})
    assert [r["delta"] for r in out["rows"][:2]] == [-3, -2] and math.isnan(out["rows"][2]["delta"])
    assert out["rows"][2]["first_reason"] == "no gain" and out["seeds"] == 3
    assert out["undefined"] == {"first": 1, "second": 0, "either": 1} and out["first_before_second"] == 2
    # the test uses the 2 defined seeds: d = (−3, −2), flipped means ±2.5, ±0.5 → p = 2/4
    assert out["difference"]["n"] == 2 and out["difference"]["mean"] == -2.5 and out["difference"]["p_value"] == 0.5
