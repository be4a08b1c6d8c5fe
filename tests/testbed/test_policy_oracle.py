"""Tokenizer round trip, the checkpoint loads by path, and the lexicon tagger's mask equals the oracle spans."""

from __future__ import annotations

import numpy as np
import pytest
from testbed_traces import traces_of

from hicra.lexicon import load_lexicon
from hicra.tagging.tagger import PlanningTagger
from hicra.testbed.oracle import OracleTagger, oracle_tagger
from hicra.testbed.task import Spec


def test_tokenizer_round_trip_splits_digits_and_ends_with_eos(toy_policy_dir):
    from hicra.models import load_tokenizer

    tokenizer = load_tokenizer(str(toy_policy_dir))
    ps, ts = traces_of(Spec("3"), 50, seed=1)
    for t in ts:
        ids = tokenizer(t.text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == t.text
    pieces = tokenizer.convert_ids_to_tokens(tokenizer("answer 144-12=132", add_special_tokens=False)["input_ids"])
    assert [p for p in pieces if any(c.isdigit() for c in p)] == list("14412132")
    chat = tokenizer.apply_chat_template([{"role": "user", "content": ps[0].text}], tokenize=False,
                                         add_generation_prompt=True)
    assert chat == f"<|im_start|>user\n{ps[0].text}<|im_end|>\n<|im_start|>assistant\n"
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|pad|>"


def test_the_checkpoint_is_a_normal_causal_lm(toy_policy_dir):
    from hicra.models import load_model

    model = load_model(str(toy_policy_dir))
    assert type(model).__name__ == "LlamaForCausalLM"


@pytest.mark.parametrize("spec", [Spec("1"), Spec("3"), Spec("2", "same-phrase")])
def test_the_lexicon_tagger_mask_equals_the_oracle_spans(toy_policy_dir, spec):
    from hicra.models import load_tokenizer

    tokenizer = load_tokenizer(str(toy_policy_dir))
    _, ts = traces_of(spec, 400, seed=2)
    ids = [tokenizer(t.text, add_special_tokens=False)["input_ids"] for t in ts]
    lexicon = PlanningTagger(load_lexicon("paper"), tokenizer).tag_ids(ids)
    oracle = OracleTagger(tokenizer, spec.variant).tag_ids(ids)
    for t, a, b in zip(ts, lexicon, oracle):
        assert a.planning.any()
        np.testing.assert_array_equal(a.planning, b.planning, err_msg=t.text)
        assert [(o.start, o.end) for o in b.spans] == list(t.planning_spans)


def test_the_oracle_follows_the_spans_not_the_lexicon(toy_policy_dir):
    from hicra.models import load_tokenizer

    tokenizer = load_tokenizer(str(toy_policy_dir))
    text = "but a good starting point is 2+3=5"  # "but" is a paper gram, not a testbed planning span
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    lexicon, oracle = PlanningTagger(load_lexicon("paper"), tokenizer).tag_ids([ids])[0], \
        OracleTagger(tokenizer).tag_ids([ids])[0]
    assert lexicon.planning[0] and not oracle.planning[0]
    np.testing.assert_array_equal(lexicon.planning & ~oracle.planning, lexicon.offsets[:, 1] <= 3)  # only "but"
    assert not (oracle.planning & ~lexicon.planning).any()
    with pytest.raises(ValueError, match="needs a testbed dataset"):
        oracle_tagger("gym:chain_sum", tokenizer)
