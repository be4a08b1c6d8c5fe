"""Stages b and c: normalisation, math masking, vectorised n-gram counting vs a loop reference, the signature."""

from collections import Counter

import numpy as np
import pytest

from hicra.lexicon import make_lexicon, normalize_gram
from hicra.mining.config import MineConfig
from hicra.mining.ngrams import count_ngrams, is_word, normalize_text, tokenize
from hicra.tagging.matcher import GramMatcher


def reference_counts(texts, cfg):
    """Loop reference: n-grams of word runs between breaks; df = solutions containing, count = occurrences."""
    df, count = Counter(), Counter()
    for text in texts:
        runs, run = [], []
        for tok in tokenize(text, cfg.mask_math):
            if is_word(tok, cfg):
                run.append(tok)
            else:
                runs.append(run)
                run = []
        runs.append(run)
        grams = Counter(" ".join(r[i:i + n]) for r in runs for n in range(cfg.min_n, cfg.max_n + 1)
                        for i in range(len(r) - n + 1))
        count.update(grams)
        df.update(grams.keys())
    return df, count


def test_normalisation_case_apostrophes_whitespace():
    assert normalize_text("Let’s  TRY\n\tthis") == "let's try this"
    assert tokenize("Don't stop, double-checking it.") == ["don't", "stop", ",", "double-checking", "it", "."]


def test_math_and_numbers_never_enter_grams():
    text = ("First we note that $x = 3$ so we note that x = 3 gives 12 apples, and we note that \\[y^2\\] "
            "holds; the cost is \\$5 and we note that [asy]draw((0,0)--(1,1));[/asy] we note that 3rd")
    toks = tokenize(text)
    assert "asy" not in toks and "draw" not in toks and "$" not in toks
    cfg = MineConfig(min_doc_count=1, min_df=0.0, max_mean_count=10, signature_order="ngram")
    cand = count_ngrams([text], cfg)
    assert "we note that" in cand.grams
    for gram in cand.grams:
        assert not any(ch.isdigit() for ch in gram) and "$" not in gram and "=" not in gram
        assert " x " not in f" {gram} " and " y " not in f" {gram} "  # single-letter variables break grams
    assert "that x" not in " ".join(cand.grams)
    unmasked = count_ngrams([text], MineConfig(min_doc_count=1, min_df=0.0, max_mean_count=10, mask_math=False,
                                               signature_order="ngram",
                                               mask_single_letters=False))
    assert "3 gives 12 apples" in unmasked.grams  # without masking, numbers are words


def test_vectorised_counts_equal_loop_reference_on_math500(math500_solutions):
    texts = math500_solutions[:200]
    cfg = MineConfig(min_df=0.0, min_doc_count=2, max_mean_count=100.0, max_candidates=0)
    cand = count_ngrams(texts, cfg)
    df, count = reference_counts(texts, cfg)
    expected = {g for g, d in df.items() if d >= 2}
    assert set(cand.grams) == expected and len(cand.grams) == len(expected)
    for g, d, c in zip(cand.grams, cand.df.tolist(), cand.count.tolist()):
        assert (d, c) == (df[g], count[g]), g
    assert cand.counts["distinct n-grams"] == len(df)
    # the solution sets agree with the counts
    assert np.array_equal(np.asarray((cand.docs > 0).sum(axis=1)).ravel(), cand.df)
    assert np.array_equal(np.asarray(cand.docs.sum(axis=1)).ravel(), cand.count)  # uses per solution


def test_grams_are_normalised_and_found_by_the_tagger_where_mined(math500_solutions):
    texts = math500_solutions
    cand = count_ngrams(texts, MineConfig())
    assert len(cand) > 50
    assert all(3 <= len(g.split()) <= 5 and normalize_gram(g) == g for g in cand.grams)
    matcher = GramMatcher(make_lexicon("c", cand.grams))
    for g, row in zip(cand.grams, cand.docs):
        for d in row.indices[:3]:
            assert any(o.gram == g for o in matcher.find(texts[d])), (g, d)


def test_signature_frequent_across_sparse_within(math500_solutions):
    base = math500_solutions[:100]
    spam = "we proceed as follows " * 5  # five uses in each of the solutions containing it
    texts = [t + " So we look at this. " + (spam if i < 30 else "") for i, t in enumerate(base)]
    texts[0] += " and we look at this again"
    cfg = MineConfig(min_df=0.2, min_doc_count=3, max_mean_count=1.5, signature_order="ngram")
    cand = count_ngrams(texts, cfg)
    assert "so we look at this" in cand.grams  # in every solution, about once each
    i = cand.grams.index("we look at this")
    assert cand.df[i] == 100 and cand.count[i] == 101 and cand.mean_count[i] == pytest.approx(1.01)
    assert "we proceed as follows" not in cand.grams  # frequent but dense (5 per solution)
    loose = count_ngrams(texts, MineConfig(min_df=0.2, max_mean_count=6, signature_order="ngram"))
    assert "we proceed as follows" in loose.grams
    assert cand.counts["frequent across (df)"] > cand.counts["sparse within"] >= len(cand)
    rare = count_ngrams(texts, MineConfig(min_df=0.5, signature_order="ngram"))
    assert all(d >= 50 for d in rare.df)
    capped = count_ngrams(texts, MineConfig(min_df=0.05, max_candidates=5))
    assert len(capped) == 5 and list(capped.df) == sorted(capped.df, reverse=True)


def test_group_first_order_keeps_rare_ngrams_as_candidates(math500_solutions):
    texts = math500_solutions[:100]
    cand = count_ngrams(texts, MineConfig(min_df=0.5))  # signature_order=concept: min_df is tested on concepts
    assert min(cand.df) == 2 and cand.counts["in >= 2 solutions"] >= len(cand)
    floor = count_ngrams(texts, MineConfig(candidate_min_doc_count=5))
    assert min(floor.df) == 5 and set(floor.grams) < set(cand.grams)
