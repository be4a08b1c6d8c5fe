"""GramMatcher: the documented matching semantics, one rule per test (paper §2.1)."""

from __future__ import annotations

import pytest

from hicra.lexicon import make_lexicon
from hicra.tagging import GramMatcher, Occurrence, normalize_text


def find(grams: list[str], text: str) -> list[tuple[int, int, str]]:
    return sorted((o.start, o.end, o.gram) for o in GramMatcher(make_lexicon("t", grams)).find(text))


def test_case_insensitive():
    assert find(["but wait"], "BUT Wait") == [(0, 8, "but wait")]


def test_word_boundaries():
    assert find(["so"], "also so, so2 _so so_ (so)") == [(5, 7, "so"), (22, 24, "so")]
    assert find(["wait"], "waiting awaits wait.") == [(15, 19, "wait")]


def test_grams_with_non_word_ends_need_no_boundary_there():
    assert find(["hmm,"], "hmm,ok") == [(0, 4, "hmm,")]
    assert find(["## step"], "### Step 2") == [(1, 8, "## step")]


def test_any_whitespace_run_matches_a_space():
    text = "But\n\n  wait\tthere\u00a0is"
    assert find(["but wait", "wait there is"], text) == [(0, 11, "but wait"), (7, 20, "wait there is")]
    assert find(["but wait"], "butwait") == []


def test_apostrophes_are_equivalent():
    assert find(["let's"], "Let’s let's letʼs let‘s") == [(0, 5, "let's"), (6, 11, "let's"), (12, 17, "let's"),
                                                          (18, 23, "let's")]
    assert find(["let’s"], "let's") == [(0, 5, "let's")]  # grams are normalised too


def test_overlapping_and_nested_occurrences_are_all_reported():
    assert find(["but", "but wait", "wait"], "but wait") == [(0, 3, "but"), (0, 8, "but wait"), (4, 8, "wait")]


def test_unicode_grams_match_their_own_spelling():
    grams = ["ΣΑΣ", "İstanbul", "naïve", "日本", "e\u0301"]
    for gram in grams:
        assert len(find(grams, gram)) == 1, gram
    assert find(["ΣΑΣ"], "σασ") == [(0, 3, "σασ")]  # Σ lowers to σ wherever it stands (str.lower: ς at word end)


def test_occurrences_are_ordered_by_end():
    occ = GramMatcher(make_lexicon("t", ["a b c", "b"])).find("a b c b")
    assert [o.end for o in occ] == sorted(o.end for o in occ)
    assert occ[0] == Occurrence(2, 3, "b")


def test_normalize_text_maps_back_to_the_original():
    norm, index = normalize_text("A  \n B’s")
    assert norm == "a b's"
    assert index.tolist() == [0, 1, 5, 6, 7]


def test_bad_lexicons_are_rejected():
    with pytest.raises(ValueError, match="no grams"):
        GramMatcher(make_lexicon("empty", []))
    with pytest.raises(ValueError, match="not normalised"):
        GramMatcher(make_lexicon("nul", ["a\x00b"]))
