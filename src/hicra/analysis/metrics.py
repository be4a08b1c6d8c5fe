"""Learning-dynamics metrics of arXiv 2509.03646 as pure functions on numpy arrays (no I/O, no tokenizer).

Token-level inputs are *flat*: the tokens of many completions concatenated, with ``lengths`` [B] giving each
completion's token count (so token j of completion i sits at ``sum(lengths[:i]) + j``). Every function below
names the paper section whose quantity it computes; an undefined value (no token of a class, no SG occurrence,
no group large enough) is ``nan``, never an exception.

==========================  =========================================================================  ==========
quantity                    definition                                                                 section
==========================  =========================================================================  ==========
perplexity of a class       exp(mean NLL) over the class's tokens, NLL_t = −log π(o_t | o_<t)          §2.2.1
relative perplexity         the class's perplexity divided by its value at the first step              §2.2.1
token entropy of a class    mean over the class's tokens of H_t = −Σ_v π(v|o_<t) log π(v|o_<t)          §2.2.1
semantic entropy            Shannon entropy (nats) of the frequency distribution of SG occurrences     §2.2.2
conditional entropy         H(N | S) = Σ_s p(s) H(N | S=s), S = SG of an occurrence, N = the next      §2.2.2
                            ``n`` words after it ("procedural n-gram")
Pass@k                      unbiased 1 − C(n−c, k)/C(n, k) per prompt group, averaged over groups      §4 (Chen
                                                                                                       et al.)
fork tokens                 top-q (q = 0.3) highest-entropy tokens of each completion                  §4.5
==========================  =========================================================================  ==========
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import islice
from typing import Hashable, Iterable, Sequence

import numpy as np

NAN = float("nan")
_WORD = re.compile(r"\w+")


# ------------------------------------------------------------------------------------------------ token classes
def class_perplexity(logprobs: np.ndarray, in_class: np.ndarray) -> float:
    """exp(−mean log π) over the tokens where ``in_class`` is true  (§2.2.1); nan if there are none.

    Args:
        logprobs: [N] per-token log-probabilities (nan = not scored, ignored).
        in_class: [N] bool class mask (planning, or its complement for execution).
    """
    sel = in_class & ~np.isnan(logprobs)
    n = int(sel.sum())
    return math.exp(-float(logprobs[sel].sum()) / n) if n else NAN


def class_mean(values: np.ndarray, in_class: np.ndarray) -> float:
    """Mean of ``values`` [N] over the class's tokens, e.g. the mean token entropy of planning tokens (§2.2.1)."""
    sel = in_class & ~np.isnan(values)
    n = int(sel.sum())
    return float(values[sel].sum()) / n if n else NAN


def relative_to_first(series: Sequence[float]) -> list[float]:
    """Each value divided by the first defined (non-nan, non-zero) value of the series (§2.2.1 normalisation)."""
    base = next((v for v in series if v == v and v != 0), None)
    return [NAN if base is None or v != v else v / base for v in series]


# --------------------------------------------------------------------------------------- strategic-gram entropies
def shannon_entropy(counts: Iterable[float]) -> float:
    """H(p) = −Σ p log p (nats) of the distribution proportional to ``counts``; nan for an empty distribution.

    The *semantic entropy* of a step (§2.2.2) is this entropy of the SG frequency distribution over the step's
    completions: ``shannon_entropy(Counter(sg for every SG occurrence).values())``.
    """
    c = np.asarray([x for x in counts if x > 0], dtype=np.float64)
    total = c.sum()
    if total <= 0:
        return NAN
    p = c / total
    return float(-(p * np.log(p)).sum()) + 0.0  # + 0.0 turns −0.0 into 0.0


def conditional_entropy(pair_counts: dict[tuple[Hashable, Hashable], float]) -> float:
    """H(N | S) = Σ_s p(s) H(N | S=s) from joint counts {(s, n): count}  (§2.2.2); nan if there are none.

    With S the Strategic Gram of an occurrence and N the procedural n-gram that follows it (see
    :func:`following_words`), low values mean each plan is followed by a fixed procedure.
    """
    by_s: dict[Hashable, list[float]] = {}
    for (s, _), c in pair_counts.items():
        if c > 0:
            by_s.setdefault(s, []).append(c)
    total = sum(sum(v) for v in by_s.values())
    if total <= 0:
        return NAN
    return sum(sum(v) / total * shannon_entropy(v) for v in by_s.values()) + 0.0


def maximal_occurrences(spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Drop SG occurrences nested inside a longer one ("wait" inside "but wait"), sorted by start  (§2.2.2).

    Partially overlapping occurrences are both kept. Each remaining occurrence counts once in the SG distribution.
    """
    ordered = sorted(spans, key=lambda s: (s[0], -s[1]))
    kept, reach = [], -1
    for start, end, gram in ordered:
        if end <= reach:  # an earlier occurrence starts no later and ends no earlier
            continue
        kept.append((start, end, gram))
        reach = end
    return kept


def strategic_grams(spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """The SGs one completion contributes to the SG frequency distribution: one per maximal occurrence  (§2.2.2)."""
    return [gram for _, _, gram in maximal_occurrences(spans)]


def semantic_entropy(grams: Iterable[str]) -> float:
    """Semantic entropy (§2.2.2): Shannon entropy (nats) of the frequencies of the SGs in ``grams``.

    ``grams`` holds one entry per counted occurrence (:func:`strategic_grams` of each completion); nan when there is
    none (undefined, not 0). The trainer's ``hicra/semantic_entropy`` and ``hicra analyze`` both use this function.
    """
    return shannon_entropy(Counter(grams).values())


def following_words(text: str, end: int, n: int = 3, window: int = 200) -> tuple[str, ...]:
    """The procedural n-gram after an SG occurrence ending at ``end``: the next ``n`` words of ``text``  (§2.2.2).

    Words are maximal runs of word characters (``\\w+``), lower-cased; punctuation and whitespace are skipped.
    Near the end of the text fewer than ``n`` words are returned (the empty tuple stands for "nothing follows").
    """
    words = [m.group().lower() for m in islice(_WORD.finditer(text, end, end + window), n)]
    while len(words) < n and end + window < len(text):  # the window was too short (long non-word runs)
        window *= 4
        words = [m.group().lower() for m in islice(_WORD.finditer(text, end, end + window), n)]
    return tuple(words)


def sg_statistics(texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int, str]]], n: int = 3
                  ) -> tuple[Counter, Counter]:
    """SG frequencies and (SG, next-n-words) joint frequencies over completions  (§2.2.2).

    Args:
        texts: completion texts. spans: per text, its SG occurrences (start, end, gram) as character offsets.
    Returns:
        (Counter gram → count, Counter (gram, procedural n-gram) → count), over maximal occurrences.
    """
    sg, pairs = Counter(), Counter()
    for text, occ in zip(texts, spans):
        for start, end, gram in maximal_occurrences(occ):
            sg[gram] += 1
            pairs[gram, following_words(text, end, n)] += 1
    return sg, pairs


# ----------------------------------------------------------------------------------------------------- Pass@k
def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased Pass@k of one prompt group: 1 − C(n−c, k)/C(n, k) for n samples of which c are correct.

    Computed as 1 − Π_{i=n−c+1}^{n} (1 − k/i), which is exact and never overflows. nan if k > n.
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k > n:
        return NAN
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def mean_pass_at_k(groups: Iterable[tuple[int, int]], k: int) -> float:
    """Mean Pass@k over prompt groups (n, c) with at least k samples; nan if no group is large enough."""
    vals = [pass_at_k(n, c, k) for n, c in groups if n >= k]
    return float(np.mean(vals)) if vals else NAN


# ------------------------------------------------------------------------------------------------ fork tokens
def segment_ids(lengths: np.ndarray) -> np.ndarray:
    """[N] index of the completion each flat token belongs to."""
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.repeat(np.arange(len(lengths)), lengths)


def top_fraction_mask(values: np.ndarray, lengths: np.ndarray, top_q: float = 0.3) -> np.ndarray:
    """[N] bool: in each completion, its ceil(q·n) highest ``values`` (ties: earlier position first)  (§4.5).

    The flat counterpart of :func:`hicra.core.masks.fork_token_mask`; ``ceil`` is taken after rounding q·n to 9
    decimals, so 30% of 10 tokens is 3 (the float product 10 × 0.3 is 3.0000000000000004).
    """
    if not 0.0 < top_q <= 1.0:
        raise ValueError(f"top_q must be in (0, 1], got {top_q}")
    lengths = np.asarray(lengths, dtype=np.int64)
    seg = segment_ids(lengths)
    n = len(seg)
    order = np.lexsort((-np.asarray(values, dtype=np.float64), seg))  # by completion, value desc (stable: ties
    # keep their position order)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(lengths) else lengths
    rank = np.arange(n) - starts[seg[order]]
    k = np.ceil(np.round(lengths * top_q, 9)).astype(np.int64)
    out = np.zeros(n, dtype=bool)
    out[order] = rank < k[seg[order]]
    return out


def fork_overlap(planning: np.ndarray, fork: np.ndarray) -> tuple[float, float]:
    """Overlap of planning tokens with high-entropy fork tokens, in both directions  (§4.5).

    Returns:
        (fraction of planning tokens that are fork tokens, fraction of fork tokens that are planning tokens);
        nan where the denominator is empty. Chance levels are q and the planning-token ratio respectively.
    """
    both = int((planning & fork).sum())
    n_plan, n_fork = int(planning.sum()), int(fork.sum())
    return (both / n_plan if n_plan else NAN, both / n_fork if n_fork else NAN)
