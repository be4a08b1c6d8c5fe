"""Statistics of a study: intervals over seeds, paired differences and their p-values (numpy/scipy only).

Two views of "does method A beat method B?", both paired (same seed, same held-out problems):

* **seed level** (:func:`paired_difference`): one number per seed, d_s = score_A(s) − score_B(s). The interval is
  the Student-t interval of the mean of d over seeds; the p-value is the exact sign-flip permutation test (all 2^n
  sign patterns of d; under H0 each d_s is symmetric around 0) when there are few seeds, else a bootstrap test.
  This is the honest view: seeds are the independent replicates of training.
* **problem level** (:func:`problem_bootstrap`): resample held-out problems with replacement and recompute the
  seed-averaged difference of per-problem accuracies; it measures the uncertainty due to the finite held-out set
  (pooling seeds), not the run-to-run variance of training, so its interval is narrower with few seeds.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
from scipy import stats as sps


@dataclass(frozen=True)
class Interval:
    """A mean with its confidence interval (``low``/``high`` are nan with fewer than two values)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "half_width": self.half_width}


def t_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Mean ± t_{(1+c)/2, n−1} · s/√n over ``values`` (nan entries dropped; s = sample standard deviation)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    half = float(sps.t.ppf((1 + confidence) / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def sign_flip_pvalue(diffs: Sequence[float]) -> float:
    """Exact two-sided p-value of the sign-flip permutation test of mean(d) = 0.

    p = #{sign patterns ε ∈ {±1}^n : |mean(ε·d)| ≥ |mean(d)|} / 2^n (the observed pattern included, so p ≥ 2^−n).
    """
    d = np.asarray(diffs, dtype=np.float64)
    if len(d) == 0:
        return math.nan
    observed = abs(d.mean())
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(d))))
    flipped = np.abs((signs * d).mean(axis=1))
    return float(np.mean(flipped >= observed - 1e-12))


def bootstrap_pvalue(diffs: Sequence[float], resamples: int = 10_000, seed: int = 0) -> float:
    """Two-sided bootstrap p-value of mean(d) = 0: resample the centred d and count |mean*| ≥ |mean(d)|."""
    d = np.asarray(diffs, dtype=np.float64)
    if len(d) == 0:
        return math.nan
    rng = np.random.default_rng(seed)
    centred = d - d.mean()
    means = centred[rng.integers(0, len(d), size=(resamples, len(d)))].mean(axis=1)
    return float((np.sum(np.abs(means) >= abs(d.mean()) - 1e-12) + 1) / (resamples + 1))


@dataclass(frozen=True)
class PairedDifference:
    """Seed-level paired difference A − B: mean, t-interval, p-value and which test gave it."""

    interval: Interval
    p_value: float
    test: str  # "sign-flip (exact)" | "bootstrap" | "none"
    diffs: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**self.interval.as_dict(), "p_value": self.p_value, "test": self.test, "diffs": list(self.diffs)}


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95, exact_max: int = 12,
                      resamples: int = 10_000, seed: int = 0) -> PairedDifference:
    """A − B paired by position (seed): t-interval of the mean difference and its p-value (see module docstring)."""
    if len(a) != len(b):
        raise ValueError(f"paired difference needs equal lengths, got {len(a)} and {len(b)}")
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return PairedDifference(t_interval([], confidence), math.nan, "none", ())
    if len(d) <= exact_max:
        p, test = sign_flip_pvalue(d), "sign-flip (exact)"
    else:
        p, test = bootstrap_pvalue(d, resamples, seed), "bootstrap"
    return PairedDifference(t_interval(d, confidence), p, test, tuple(float(x) for x in d))


def problem_bootstrap(a: np.ndarray, b: np.ndarray, confidence: float = 0.95, resamples: int = 10_000,
                      seed: int = 0) -> dict[str, Any]:
    """Problem-level paired bootstrap of A − B, pooling seeds.

    ``a`` and ``b`` are [seeds, problems] per-problem accuracies (same problems, same seed order). Each resample
    draws problems with replacement and takes the mean over seeds and drawn problems of a − b. Returns the observed
    mean, the percentile interval and a two-sided p-value 2·min(P*(Δ ≤ 0), P*(Δ ≥ 0)) (capped at 1).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"problem bootstrap needs two [seeds, problems] arrays of one shape, got {a.shape}, {b.shape}")
    per_problem = (a - b).mean(axis=0)
    if per_problem.size == 0:
        return {"mean": math.nan, "low": math.nan, "high": math.nan, "p_value": math.nan, "problems": 0}
    rng = np.random.default_rng(seed)
    means = per_problem[rng.integers(0, per_problem.size, size=(resamples, per_problem.size))].mean(axis=1)
    alpha = (1 - confidence) / 2
    p = min(1.0, 2 * min(float(np.mean(means <= 0)), float(np.mean(means >= 0))))
    return {"mean": float(per_problem.mean()), "low": float(np.quantile(means, alpha)),
            "high": float(np.quantile(means, 1 - alpha)), "p_value": p, "problems": int(per_problem.size),
            "seeds": int(a.shape[0])}


def band(series: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-position mean, min and max over several equally long series (nan-aware): a seed band of a curve."""
    x = np.asarray(series, dtype=np.float64)
    with warnings.catch_warnings():  # an all-nan position (no seed logged it) stays nan, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=0), np.nanmin(x, axis=0), np.nanmax(x, axis=0)


@dataclass(frozen=True)
class Equivalence:
    """Two one-sided t-tests (TOST) of the mean paired difference against the margin ±δ.

    H0⁻: μ ≤ −δ (t⁻ = (d̄ + δ)/se, p⁻ = P(T ≥ t⁻)) and H0⁺: μ ≥ δ (t⁺ = (d̄ − δ)/se, p⁺ = P(T ≤ t⁺)), T ~ t(n−1),
    se = s/√n; p = max(p⁻, p⁺). p < α ⇔ the (1 − 2α) t-interval [``low``, ``high``] lies inside (−δ, δ).
    """

    mean: float
    se: float
    n: int
    margin: float
    p_lower: float
    p_upper: float
    low: float
    high: float

    @property
    def p_value(self) -> float:
        return max(self.p_lower, self.p_upper)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "p_value": self.p_value}


def tost(diffs: Sequence[float], margin: float, alpha: float = 0.05) -> Equivalence:
    """TOST of paired differences ``diffs`` (nan dropped) with margin δ = ``margin`` > 0 (see :class:`Equivalence`).

    With fewer than two values the p-values are nan; with zero spread each one-sided test is decided by the mean
    alone (p = 0 when d̄ is inside the margin on that side, else 1).
    """
    if not margin > 0:
        raise ValueError(f"equivalence margin must be > 0, got {margin}")
    d = np.asarray(diffs, dtype=np.float64)
    d = d[~np.isnan(d)]
    n = len(d)
    if n < 2:
        mean = float(d.mean()) if n else math.nan
        return Equivalence(mean, math.nan, n, margin, math.nan, math.nan, math.nan, math.nan)
    mean, se = float(d.mean()), float(d.std(ddof=1) / math.sqrt(n))
    if se == 0:
        p_lower, p_upper, half = float(mean <= -margin), float(mean >= margin), 0.0
    else:
        p_lower = float(sps.t.sf((mean + margin) / se, n - 1))
        p_upper = float(sps.t.cdf((mean - margin) / se, n - 1))
        half = float(sps.t.ppf(1 - alpha, n - 1) * se)
    return Equivalence(mean, se, n, margin, p_lower, p_upper, mean - half, mean + half)


VERDICTS = ("superior", "inferior", "equivalent", "inconclusive")


def verdict(mean: float, p_difference: float, p_equivalence: float, alpha: float) -> str:
    """One of :data:`VERDICTS` at level α, from (Holm-adjusted) p-values of one contrast A − B.

    superior / inferior: the difference test rejects μ = 0 (p_difference < α) and d̄ > 0 / d̄ < 0; otherwise
    equivalent: the TOST rejects |μ| ≥ δ (p_equivalence < α); otherwise inconclusive. A nan p-value never rejects.
    """
    if p_difference < alpha and mean != 0:
        return "superior" if mean > 0 else "inferior"
    if p_equivalence < alpha:
        return "equivalent"
    return "inconclusive"


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in input order (nan entries stay nan and are not counted in the family).

    With the m finite p-values sorted p₍₁₎ ≤ … ≤ p₍ₘ₎: p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎).
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, math.nan)
    finite = np.flatnonzero(~np.isnan(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p[index])))
        out[index] = running
    return [float(x) for x in out]


@dataclass(frozen=True)
class HalfGain:
    """Where a curve reaches half of its gain: ``step`` is None (with ``reason``) when undefined."""

    initial: float
    final: float
    step: int | None
    reason: str  # "" when defined; "too short" | "no gain" | "not reached"

    @property
    def gain(self) -> float:
        return self.final - self.initial

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "gain": self.gain}


def half_gain_step(steps: Sequence[int], values: Sequence[float], k: int = 5, window: int = 1) -> HalfGain:
    """The first step at which a curve reaches half of its final gain (the two phases of paper §2.2).

    Evaluations with a nan value are dropped; the rest are ordered by step. initial = mean of the first ``k``
    values, final = mean of the last ``k``, gain = final − initial. The curve is smoothed by a trailing mean over
    ``window`` evaluations (defined from the ``window``-th evaluation on; 1 = the raw values); the half-gain step is
    the first step whose smoothed value is ≥ initial + gain/2. Undefined when there are fewer than 2k evaluations
    ("too short"), gain ≤ 0 ("no gain"), or no smoothed value reaches the threshold ("not reached").
    """
    if k < 1 or window < 1:
        raise ValueError(f"half-gain step needs k >= 1 and window >= 1, got k={k}, window={window}")
    pairs = sorted((int(s), float(v)) for s, v in zip(steps, values) if v == v)
    if len(pairs) < 2 * k:
        return HalfGain(math.nan, math.nan, None, "too short")
    x = np.array([v for _, v in pairs])
    initial, final = float(x[:k].mean()), float(x[-k:].mean())
    if final - initial <= 0:
        return HalfGain(initial, final, None, "no gain")
    smoothed = np.convolve(x, np.ones(window) / window, mode="valid")  # smoothed[i] ends at evaluation i+window−1
    threshold = initial + (final - initial) / 2
    reached = np.flatnonzero(smoothed >= threshold - 1e-12)
    if not reached.size:  # possible only with smoothing: every window mean stays below the threshold
        return HalfGain(initial, final, None, "not reached")
    first = int(reached[0])
    return HalfGain(initial, final, pairs[first + window - 1][0], "")


def phase_difference(first: dict[int, HalfGain], second: dict[int, HalfGain], confidence: float = 0.95,
                     exact_max: int = 12, resamples: int = 10_000, seed: int = 0) -> dict[str, Any]:
    """Per seed, half-gain step of curve 1 − that of curve 2, with the seed-level paired test of the mean.

    ``first``/``second``: seed → :class:`HalfGain`. Every seed is reported; a seed where either step is undefined
    has Δ = nan, is counted under ``undefined`` and is left out of the test (which has ``n`` < seeds then).
    """
    seeds = sorted(set(first) & set(second))
    rows, a, b = [], [], []
    for s in seeds:
        x, y = first[s].step, second[s].step
        rows.append({"seed": s, "first": x, "second": y, "delta": math.nan if x is None or y is None else x - y,
                     "first_reason": first[s].reason, "second_reason": second[s].reason,
                     "first_gain": first[s].gain, "second_gain": second[s].gain})
        a.append(math.nan if x is None else float(x))
        b.append(math.nan if y is None else float(y))
    undefined = {"first": sum(x != x for x in a), "second": sum(y != y for y in b),
                 "either": sum(x != x or y != y for x, y in zip(a, b))}
    test = paired_difference(a, b, confidence, exact_max, resamples, seed)
    before = sum(r["delta"] < 0 for r in rows)
    return {"rows": rows, "undefined": undefined, "seeds": len(seeds), "first_before_second": before,
            "difference": test.as_dict()}
