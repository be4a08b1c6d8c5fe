"""PlanningTagger on the real SmolLM2 tokenizer: token rule, id path edge cases, batch API (paper §2.1)."""

from __future__ import annotations

import numpy as np
import pytest

from hicra.lexicon import make_lexicon
from hicra.tagging import PlanningTagger
from hicra.tagging.html import render_page, render_trace


@pytest.fixture(scope="module")
def tagger(smollm2_tokenizer) -> PlanningTagger:
    return PlanningTagger(make_lexicon("t", ["but wait", "let's", "so"]), smollm2_tokenizer)


def planning_tokens(tagged) -> list[str]:
    return [tok for tok, p in zip(tagged.tokens, tagged.planning.tolist()) if p]


def test_tokens_inside_an_occurrence_are_planning(tagger):
    [t] = tagger.tag_texts(["Also, but wait: so it is."])
    assert "".join(planning_tokens(t)).split() == ["but", "wait", "so"]
    assert [(o.start, o.end, o.gram) for o in t.spans] == [(6, 14, "but wait"), (16, 18, "so")]


def test_whitespace_only_tokens_are_never_planning(tagger):
    [t] = tagger.tag_texts(["but\n\n\nwait"])
    whitespace = [tok.isspace() for tok in t.tokens]
    assert any(whitespace)
    assert t.planning.tolist() == [not w for w in whitespace]


def test_tag_ids_equals_tag_texts_and_planning_masks(tagger, smollm2_tokenizer):
    texts = ["Let’s see… but wait, 日本 😀 so", "", "no grams here"]
    ids = smollm2_tokenizer(texts, add_special_tokens=False)["input_ids"]
    by_ids, by_text = tagger.tag_ids(ids), tagger.tag_texts(texts)
    masks = tagger.planning_masks(ids)
    for a, b, m, seq in zip(by_ids, by_text, masks, ids):
        assert a.text == b.text
        assert a.token_ids == list(seq)
        assert a.offsets.tolist() == b.offsets.tolist()  # split characters are owned by each part, like HF
        assert a.planning.tolist() == b.planning.tolist() == m.tolist()
        assert a.spans == b.spans
    assert by_ids[0].planning.sum() > 0 and by_ids[2].planning.sum() == 0


def test_tag_ids_survives_invalid_utf8(tagger, smollm2_tokenizer):
    ids = smollm2_tokenizer("but wait 😀 so", add_special_tokens=False)["input_ids"]
    half = [i for i in ids if "\ufffd" in smollm2_tokenizer.decode([i])][:1]  # part of the emoji
    assert half
    [t] = tagger.tag_ids([half + ids + half])
    assert len(t.planning) == len(ids) + 2
    assert t.tokens[0] == " \ufffd\ufffd\ufffd"  # each invalid byte becomes one U+FFFD
    assert planning_tokens(t) == planning_tokens(tagger.tag_ids([ids])[0])


def test_batches_do_not_leak_between_texts(tagger):
    texts = ["it is but", "wait and so", "x\x00so", "but\x00wait"]
    tagged = tagger.tag_texts(texts)
    assert [t.text for t in tagged] == texts  # NUL inside a text is kept and is not whitespace
    assert [[o.gram for o in t.spans] for t in tagged] == [[], ["so"], ["so"], []]


def test_empty_inputs(tagger):
    assert tagger.tag_texts([]) == [] and tagger.tag_ids([]) == [] and tagger.planning_masks([]) == []
    [t] = tagger.tag_ids([[]])
    assert t.text == "" and t.offsets.shape == (0, 2) and t.planning.shape == (0,)


def test_out_of_range_ids_are_rejected(tagger, smollm2_tokenizer):
    with pytest.raises(ValueError, match="out of the tokenizer's range"):
        tagger.tag_ids([[0, len(smollm2_tokenizer) + 5]])


def test_special_tokens_contribute_no_text(tagger, smollm2_tokenizer):
    ids = smollm2_tokenizer("but wait", add_special_tokens=False)["input_ids"]
    eos = smollm2_tokenizer.eos_token_id
    [t] = tagger.tag_ids([ids + [eos]])
    assert t.text == "but wait" and t.planning.tolist() == [True] * len(ids) + [False]


def test_html_highlights_planning_tokens(tagger):
    [t] = tagger.tag_texts(["<b>so</b> but wait & more"])
    trace = render_trace(t)
    assert '<span class="plan">so</span>' in trace and "&lt;b&gt;" in trace and "&amp;" in trace
    assert "<!doctype html>" in render_page([t], "x").lower()
    assert isinstance(t.planning, np.ndarray)
