import math
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hicra.analysis.metrics import (class_mean, class_perplexity, conditional_entropy, following_words, fork_overlap,
                                    maximal_occurrences, mean_pass_at_k, pass_at_k, relative_to_first,
                                    sg_statistics, shannon_entropy, top_fraction_mask)
from hicra.core.masks import fork_token_mask


def test_class_perplexity_and_entropy_by_hand():
    lp = np.array([-1.0, -2.0, -3.0, -0.5, np.nan])
    plan = np.array([True, True, False, False, True])
    assert class_perplexity(lp, plan) == pytest.approx(math.exp(1.5))  # nan token ignored
    assert class_perplexity(lp, ~plan) == pytest.approx(math.exp(1.75))
    assert math.isnan(class_perplexity(lp, np.zeros(5, bool)))
    ent = np.array([0.5, 1.5, 0.2, 0.4, 9.0])
    assert class_mean(ent, plan) == pytest.approx((0.5 + 1.5 + 9.0) / 3)


def test_relative_to_first_skips_undefined_start():
    out = relative_to_first([math.nan, 2.0, 4.0, 1.0, math.nan])
    assert math.isnan(out[0]) and out[1:4] == [1.0, 2.0, 0.5] and math.isnan(out[4])
    assert all(math.isnan(x) for x in relative_to_first([math.nan, math.nan]))


def test_shannon_entropy_by_hand():
    assert shannon_entropy([2, 1, 1]) == pytest.approx(-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)))
    assert shannon_entropy([7]) == 0.0
    assert math.isnan(shannon_entropy([]))
    assert shannon_entropy([3, 0, 3]) == pytest.approx(math.log(2))


def test_conditional_entropy_by_hand():
    # "wait" is followed by two different n-grams equally often, "so" always by the same one
    pairs = {("wait", ("a",)): 2, ("wait", ("b",)): 2, ("so", ("c",)): 4}
    assert conditional_entropy(pairs) == pytest.approx(0.5 * math.log(2))
    assert math.isnan(conditional_entropy({}))


def test_maximal_occurrences_drop_nested_keep_overlapping():
    spans = [(4, 8, "wait"), (0, 8, "but wait"), (6, 12, "it so"), (20, 22, "so")]
    assert maximal_occurrences(spans) == [(0, 8, "but wait"), (6, 12, "it so"), (20, 22, "so")]


def test_following_words():
    text = "Let me check: 3 + 4 = 7, so done"
    assert following_words(text, len("Let me"), 3) == ("check", "3", "4")
    assert following_words(text, len(text) - 4, 3) == ("done",)
    assert following_words(text, len(text), 3) == ()
    assert following_words("so" + "." * 500 + " far away now", 2, 2) == ("far", "away")


def test_sg_statistics_counts_maximal_occurrences():
    texts = ["But wait, x is 2. Wait, y is 3.", "Wait, x is 2."]
    spans = [[(0, 8, "but wait"), (4, 8, "wait"), (18, 22, "wait")], [(0, 4, "wait")]]
    sg, pairs = sg_statistics(texts, spans, n=2)
    assert sg == Counter({"but wait": 1, "wait": 2})
    assert pairs == Counter({("but wait", ("x", "is")): 1, ("wait", ("y", "is")): 1, ("wait", ("x", "is")): 1})
    assert shannon_entropy(sg.values()) == pytest.approx(-(1 / 3 * math.log(1 / 3) + 2 / 3 * math.log(2 / 3)))


def test_pass_at_k_by_hand():
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(1 - 3 / 6)  # 1 − C(3,2)/C(4,2)
    assert pass_at_k(4, 0, 4) == 0.0 and pass_at_k(4, 1, 4) == 1.0
    assert math.isnan(pass_at_k(2, 1, 4))
    assert mean_pass_at_k([(4, 1), (4, 3), (2, 2)], 4) == 1.0  # the 2-sample group is too small for k=4
    assert math.isnan(mean_pass_at_k([(2, 1)], 4))
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


@given(st.integers(1, 40).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_matches_binomial_formula(nck):
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), abs=1e-12)


def test_top_fraction_mask_by_hand_and_rounding():
    ent = np.array([0.1, 0.9, 0.5, 0.3, 5.0, 1.0, 2.0, 3.0, 4.0])
    got = top_fraction_mask(ent, np.array([4, 5]), 0.3)
    assert got.tolist() == [False, True, True, False, True, False, False, False, True]
    # 30% of 10 tokens is exactly 3 (10 × 0.3 is 3.0000000000000004 in floating point)
    assert top_fraction_mask(np.arange(10.0), np.array([10]), 0.3).sum() == 3
    assert top_fraction_mask(np.zeros(0), np.array([0, 0]), 0.3).tolist() == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=6), st.sampled_from([0.25, 0.5, 1.0]), st.integers(0, 10**6))
def test_top_fraction_mask_matches_core_fork_mask(lengths, q, seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 4, size=sum(lengths)).astype(np.float64)  # many ties: checks the tie order too
    width = max(max(lengths), 1)
    padded = torch.zeros(len(lengths), width)
    mask = torch.zeros(len(lengths), width, dtype=torch.bool)
    pos = 0
    for i, n in enumerate(lengths):
        padded[i, :n] = torch.from_numpy(values[pos:pos + n])
        mask[i, :n] = True
        pos += n
    ref = fork_token_mask(padded, mask, q)[mask].numpy()
    assert top_fraction_mask(values, np.array(lengths), q).tolist() == ref.tolist()


def test_fork_overlap_by_hand():
    plan = np.array([1, 1, 0, 0, 1], bool)
    fork = np.array([1, 0, 1, 0, 0], bool)
    assert fork_overlap(plan, fork) == (pytest.approx(1 / 3), pytest.approx(1 / 2))
    a, b = fork_overlap(np.zeros(3, bool), fork[:3])
    assert math.isnan(a) and b == 0.0


@given(st.dictionaries(st.tuples(st.sampled_from("abcd"), st.sampled_from("wxyz")), st.integers(1, 20), min_size=1))
def test_conditional_entropy_identities(pairs):
    s_counts, n_counts = Counter(), Counter()
    for (s, n), c in pairs.items():
        s_counts[s] += c
        n_counts[n] += c
    h = conditional_entropy(pairs)
    assert h == pytest.approx(shannon_entropy(pairs.values()) - shannon_entropy(s_counts.values()), abs=1e-9)  # chain rule
    assert -1e-12 <= h <= shannon_entropy(n_counts.values()) + 1e-9  # conditioning never increases entropy
    assert shannon_entropy(s_counts.values()) <= math.log(len(s_counts)) + 1e-9
