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
