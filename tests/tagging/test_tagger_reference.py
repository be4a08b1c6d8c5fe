"""The tagger against a brute-force character-level reference on three tokenizer families (paper §2.1).

Byte-level BPE (SmolLM2), WordPiece (MiniLM) and a SentencePiece BPE model trained in the fixture. ``tag_texts`` must
find exactly the reference's occurrences and token labels; for BPE and SentencePiece, ``tag_ids`` on the tokenizer's
ids must give the same labels as ``tag_texts`` (WordPiece decoding is lossy, so WordPiece is tagged from text only).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tagging_reference import (gram_texts, reference_coverage, reference_labels, reference_occurrences,
                               seeded_texts)

from hicra.lexicon import load_lexicon, make_lexicon
from hicra.tagging import PlanningTagger

FAMILIES = ("bpe", "wordpiece", "sentencepiece")
ID_FAMILIES = ("bpe", "sentencepiece")
PAPER_GRAMS = load_lexicon("paper").grams
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BATCHES = st.lists(gram_texts(PAPER_GRAMS), min_size=1, max_size=4)


def compare(tagger: PlanningTagger, texts: list[str]) -> dict[str, int]:
    """Counts for span and token recall/precision of ``tag_texts`` and (if given) ``tag_ids`` against the reference."""
    counts = dict.fromkeys(["ref_spans", "got_spans", "hit_spans", "ref_tokens", "got_tokens", "hit_tokens"], 0)
    for text, tagged in zip(texts, tagger.tag_texts(texts)):
        assert tagged.text == text
        ref = reference_occurrences(text, tagger.lexicon.grams)
        got = {(o.start, o.end, o.gram) for o in tagged.spans}
        blank = blank_tokens(tagger.tokenizer, tagged.token_ids)
        ref_labels = reference_labels(text, tagged.offsets, reference_coverage(text, ref), blank)
        counts["ref_spans"] += len(ref)
        counts["got_spans"] += len(got)
        counts["hit_spans"] += len(ref & got)
        counts["ref_tokens"] += int(ref_labels.sum())
        counts["got_tokens"] += int(tagged.planning.sum())
        counts["hit_tokens"] += int((ref_labels & tagged.planning).sum())
    return counts


def blank_tokens(tokenizer, ids: list[int]) -> list[bool]:
    """Tokens whose own decoded surface is whitespace only."""
    return [not tokenizer.decode([i]).strip() for i in ids]


def assert_same_as_reference(tagger: PlanningTagger, texts: list[str]) -> None:
    for text, tagged in zip(texts, tagger.tag_texts(texts)):
        ref = reference_occurrences(text, tagger.lexicon.grams)
        assert {(o.start, o.end, o.gram) for o in tagged.spans} == ref, text
        blank = blank_tokens(tagger.tokenizer, tagged.token_ids)
        expected = reference_labels(text, tagged.offsets, reference_coverage(text, ref), blank)
        assert tagged.planning.tolist() == expected.tolist(), (text, tagged.tokens)


def assert_ids_agree(tagger: PlanningTagger, texts: list[str]) -> None:
    ids = tagger.tokenizer(texts, add_special_tokens=False)["input_ids"]
    for text, by_ids, by_text in zip(texts, tagger.tag_ids(ids), tagger.tag_texts(texts)):
        assert by_ids.token_ids == by_text.token_ids
        assert by_ids.planning.tolist() == by_text.planning.tolist(), (text, by_ids.tokens, by_text.tokens)


@pytest.mark.parametrize("family", FAMILIES)
def test_tag_texts_matches_reference(taggers, family):
    @PROPERTY
    @given(BATCHES)
    def check(texts):
        assert_same_as_reference(taggers[family], texts)

    check()


@pytest.mark.parametrize("family", ID_FAMILIES)
def test_tag_ids_agrees_with_tag_texts(taggers, family):
    @PROPERTY
    @given(BATCHES)
    def check(texts):
        assert_ids_agree(taggers[family], texts)

    check()


EDGE_GRAMS = ("so", "also so", "’s", "_x", "e\u0301", "naïve", "3.5", "日本", "## step", "hmm,", "x?", "a", "ß", "ΣΑΣ",
              "but wait", "let's")


@pytest.fixture(scope="module")
def edge_tagger(smollm2_tokenizer) -> PlanningTagger:
    """Grams with non-word ends, unicode, one letter, combining marks."""
    return PlanningTagger(make_lexicon("edge", list(EDGE_GRAMS)), smollm2_tokenizer)


@PROPERTY
@given(st.lists(gram_texts(EDGE_GRAMS), min_size=1, max_size=3))
def test_edge_grams_match_reference(edge_tagger, texts):
    assert_same_as_reference(edge_tagger, texts)
    assert_ids_agree(edge_tagger, texts)


@pytest.mark.parametrize("family", FAMILIES)
def test_recall_and_precision_on_seeded_corpus(taggers, family):
    """Span and token recall/precision ≥ 99.5% (in fact 100%) on 500 seeded adversarial texts."""
    tagger = taggers[family]
    texts = seeded_texts(tagger.lexicon.grams, 500, seed=7)
    c = compare(tagger, texts)
    figures = {"span_recall": c["hit_spans"] / c["ref_spans"], "span_precision": c["hit_spans"] / c["got_spans"],
               "token_recall": c["hit_tokens"] / c["ref_tokens"], "token_precision": c["hit_tokens"] / c["got_tokens"]}
    print(f"\n{family}: {c['ref_spans']} reference spans, {c['ref_tokens']} planning tokens; "
          + ", ".join(f"{k} {v:.4%}" for k, v in figures.items()))
    assert c["ref_spans"] > 1000
    assert min(figures.values()) >= 0.995
    if family in ID_FAMILIES:
        assert_ids_agree(tagger, texts)


def test_reference_sanity():
    """The reference itself follows the documented examples."""
    assert reference_occurrences("Also, so", ["so"]) == {(6, 8, "so")}
    assert reference_occurrences("BUT\n\n  wait", ["but wait"]) == {(0, 11, "but wait")}
    assert reference_occurrences("Let’s go", ["let's"]) == {(0, 5, "let's")}
    covered = reference_coverage("a but b", {(2, 5, "but")})
    labels = reference_labels("a but b", np.array([[0, 1], [1, 5], [5, 7]]), covered)
    assert labels.tolist() == [False, True, False]
