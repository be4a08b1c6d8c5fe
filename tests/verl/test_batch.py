"""apply_hicra on real verl batches: advantages equal hicra.core on the same token ids (arXiv 2509.03646, §3)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from verl import DataProto
from verl.trainer.ppo.core_algos import get_adv_estimator_fn

from dump_fixture import STEPS
from hicra.core import entropy_gated_mask, grpo_advantages, hicra_advantages, long_correct_sequences
from hicra.lexicon import load_lexicon
from hicra.models import load_tokenizer
from hicra.tagging.tagger import PlanningTagger
from hicra.engine.credit import PlanningMaskError, check_planning
from hicra.verl.batch import apply_hicra, rollout_records, step_metrics
from hicra.verl.config import HICRAVerlConfig

TEXTS = [r for _, r, _ in STEPS[1]] + [r for _, r, _ in STEPS[2][:4]]
REWARDS = [s for _, _, s in STEPS[1]] + [s for _, _, s in STEPS[2][:4]]
UIDS = ["b", "a", "c", "a", "b", "c", "a", "b", "c", "a", "c", "b"]  # shuffled, non-contiguous groups of 4


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("smollm2")


@pytest.fixture(scope="module")
def tagger(tokenizer):
    return PlanningTagger(load_lexicon("paper"), tokenizer)


def make_batch(tokenizer, texts=TEXTS, rewards=REWARDS, uids=UIDS, gap: tuple[int, int, int] | None = None):
    """A right-padded verl batch with verl's GRPO advantages; padding holds the ids of "but wait" (an SG)."""
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    width = max(map(len, ids)) + 4
    filler = tokenizer(" but wait", add_special_tokens=False)["input_ids"] * width
    responses = torch.tensor([x + filler[: width - len(x)] for x in ids])
    mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])
    if gap is not None:  # a tool-output span inside response `row`: not optimised
        row, a, b = gap
        mask[row, a:b] = 0
    scores = torch.zeros(len(ids), width)
    for i, x in enumerate(ids):
        scores[i, len(x) - 1] = rewards[i]
    index = np.array(uids, dtype=object)
    adv, ret = get_adv_estimator_fn("grpo")(token_level_rewards=scores, response_mask=mask, index=index)
    entropy = torch.rand(len(ids), width, generator=torch.Generator().manual_seed(0)) * 3
    batch = DataProto.from_dict(
        tensors={"responses": responses, "response_mask": mask, "token_level_rewards": scores, "advantages": adv,
                 "returns": ret, "entropy": entropy, "old_log_probs": -entropy / 2},
        non_tensors={"uid": index, "data_source": np.array(["toy"] * len(ids), dtype=object)})
    return batch, ids


def reference(tagger, ids, uids, rewards, mask):
    """hicra.core on the same ids: group Â, planning mask from tag_ids, lengths."""
    groups = torch.as_tensor(np.unique(np.array(uids), return_inverse=True)[1])
    seq = grpo_advantages(torch.tensor(rewards), groups, scale="group")
    planning = torch.zeros_like(mask, dtype=torch.bool)
    for i, t in enumerate(tagger.tag_ids(ids)):
        planning[i, : len(t.planning)] = torch.as_tensor(t.planning)
    return seq, planning & mask.bool(), groups


def test_hicra_matches_core(tokenizer, tagger):
    batch, ids = make_batch(tokenizer)
    mask = batch.batch["response_mask"].clone()
    verl_adv = batch.batch["advantages"].clone()
    seq, planning, _ = reference(tagger, ids, UIDS, REWARDS, mask)
    assert planning.any() and (seq != 0).any()  # the test can fail: planning tokens with non-zero Â exist
    out, _ = apply_hicra(batch, tagger, HICRAVerlConfig(method="hicra", alpha=0.2))
    expected = hicra_advantages(seq, planning, 0.2) * mask
    torch.testing.assert_close(out.batch["advantages"], expected, atol=1e-5, rtol=1e-5)
    assert not torch.equal(out.batch["advantages"], verl_adv)
    assert torch.equal(out.batch["planning_mask"], planning)
    assert not out.batch["planning_mask"][mask == 0].any()  # SG ids in the padding are never planning tokens


def test_alpha_zero_and_grpo_are_verl_grpo_exactly(tokenizer, tagger):
    for cfg in (HICRAVerlConfig(method="hicra", alpha=0.0), HICRAVerlConfig(method="grpo"),
                HICRAVerlConfig(method="entropy_reg")):
        batch, _ = make_batch(tokenizer)
        verl_adv = batch.batch["advantages"].clone()
        out, _ = apply_hicra(batch, tagger, cfg)
        assert torch.equal(out.batch["advantages"], verl_adv), cfg.method


def test_hicra_entropy_matches_core(tokenizer, tagger):
    batch, ids = make_batch(tokenizer)
    mask = batch.batch["response_mask"].clone()
    seq, _, groups = reference(tagger, ids, UIDS, REWARDS, mask)
    lengths = torch.tensor([len(x) for x in ids])
    eligible = long_correct_sequences(torch.tensor(REWARDS) >= 0.5, lengths, groups)
    assert eligible.any() and not eligible.all()
    credit = entropy_gated_mask(batch.batch["entropy"], mask.bool(), 0.3, eligible)
    out, _ = apply_hicra(batch, tagger, HICRAVerlConfig(method="hicra_entropy", alpha=0.2, entropy_top_q=0.3))
    torch.testing.assert_close(out.batch["advantages"], hicra_advantages(seq, credit, 0.2) * mask, atol=1e-5,
                               rtol=1e-5)
    assert torch.equal(out.batch["hicra_credit_mask"], credit)


def test_tool_output_gap_is_excluded(tokenizer, tagger):
    ids0 = tokenizer(TEXTS[0], add_special_tokens=False)["input_ids"]
    wait = tokenizer(TEXTS[0][:20], add_special_tokens=False)["input_ids"]  # "12 + 30 = 42. But wa"
    a, b = len(wait) - 3, len(wait) + 4  # the "But wait" tokens
    batch, ids = make_batch(tokenizer, gap=(0, a, b))
    out, _ = apply_hicra(batch, tagger, HICRAVerlConfig(alpha=0.2))
    full = torch.as_tensor(tagger.tag_ids([ids0])[0].planning)
    assert full[a:b].any()  # tagged as planning in the text ...
    assert not out.batch["planning_mask"][0, a:b].any()  # ... but not optimised: no credit
    assert torch.equal(out.batch["planning_mask"][0, b:len(ids0)], full[b:])  # tagging after the gap unchanged
    assert (out.batch["advantages"][0, a:b] == 0).all()


def test_records_and_metrics(tokenizer, tagger):
    batch, ids = make_batch(tokenizer)
    out, info = apply_hicra(batch, tagger, HICRAVerlConfig(alpha=0.2))
    prompts = [f"prompt {u}" for u in UIDS]
    records = rollout_records(out, info, tokenizer, 3, prompts)
    assert [r["completion_ids"] for r in records] == ids
    assert [r["completion"] for r in records] == TEXTS
    assert all(r["step"] == 3 and r["group_id"] == f"3-{u}" for r, u in zip(records, UIDS))
    assert len({r["prompt_id"] for r in records}) == 3
    assert [r["correct"] for r in records] == [s >= 0.5 for s in REWARDS]
    assert all(len(r["planning"]) == len(r["entropies"]) == len(r["completion_ids"]) for r in records)
    assert sum(map(sum, (r["planning"] for r in records))) == int(out.batch["planning_mask"].sum())
    m = step_metrics(out, info, records)
    assert 0 < m["hicra/planning_ratio"] < 1 and m["hicra/sg_count"] > 0
    assert m["hicra/adv_planning"] != m["hicra/adv_execution"]
    assert m["hicra/accuracy"] == pytest.approx(sum(s >= 0.5 for s in REWARDS) / len(REWARDS))


def test_empty_mask_with_grams_in_text_fails_loudly(tokenizer, tagger):
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in TEXTS[:2]]
    everything = torch.ones(2, 40, dtype=torch.bool)
    with pytest.raises(PlanningMaskError, match="all zero.*refusing to train plain GRPO"):
        check_planning(tagger, ids, everything, torch.zeros(2, 40, dtype=torch.bool))
    plain = [tokenizer("12 + 30 = 42.", add_special_tokens=False)["input_ids"]]
    check_planning(tagger, plain, everything[:1], torch.zeros(1, 8, dtype=torch.bool))  # no SG: an empty mask is fine
    batch, _ = make_batch(tokenizer, texts=["12 + 30 = 42.", "12 + 30 = 41."], rewards=[1.0, 0.0], uids=["a", "a"])
    out, _ = apply_hicra(batch, tagger, HICRAVerlConfig(alpha=0.2))
    assert not out.batch["planning_mask"].any()
