"""Both adapters build their rollout records and ``hicra/*`` metrics through hicra.engine: on the same batch the TRL
adapter's builders (hicra.trl.rollout_log, no TRL import) and the verl adapter's (hicra.verl.batch) agree."""

from __future__ import annotations

import math

import pytest
import torch
from test_batch import REWARDS, UIDS, make_batch, tagger, tokenizer  # noqa: F401 (fixtures)

from hicra.core import CreditInputs, get_credit_method, grpo_advantages
from hicra.engine.credit import step_generator, tag_rows
from hicra.engine.metrics import step_metrics as engine_step_metrics
from hicra.trl.rollout_log import pending_batch
from hicra.verl.batch import apply_hicra, group_index, rollout_records, step_metrics
from hicra.verl.config import HICRAVerlConfig


class CountingReward:
    """A reward object with the ``step_metrics`` hook: the engines merge its keys into the step's metrics."""

    def step_metrics(self, records):
        return {"toy/boxed": sum("\\boxed" in r["completion"] for r in records) / len(records)}


@pytest.mark.parametrize("method", ["hicra", "hicra_random", "hicra_scaled"])
def test_trl_and_verl_adapters_build_the_same_records_and_metrics(tokenizer, tagger, method):
    batch, ids = make_batch(tokenizer)
    prompts = [f"<|im_start|>user\nproblem {u}<|im_end|>\n" for u in UIDS]
    logps, entropies = batch.batch["old_log_probs"].clone(), batch.batch["entropy"].clone()

    # verl: the plugin's path on a DataProto
    out, info = apply_hicra(batch, tagger, HICRAVerlConfig(method=method, alpha=0.2), step_generator(0, 3))
    verl_records = rollout_records(out, info, tokenizer, 3, prompts)
    verl_metrics = step_metrics(out, info, verl_records, [CountingReward()])

    # TRL: the trainer's path on TRL's generation output for the same completions
    width = out.batch["responses"].shape[1]
    real = torch.arange(width)[None] < torch.tensor([len(x) for x in ids])[:, None]
    completion_ids = torch.where(real, out.batch["responses"], torch.full_like(real, 0, dtype=torch.long))
    prompt_rows = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    p_width = max(map(len, prompt_rows))
    prompt_ids = torch.tensor([[0] * (p_width - len(r)) + r for r in prompt_rows])  # TRL pads prompts on the left
    prompt_mask = torch.tensor([[0] * (p_width - len(r)) + [1] * len(r) for r in prompt_rows])
    groups = group_index(UIDS)
    rewards = torch.tensor(REWARDS)
    tagged = tag_rows(tagger, ids)
    planning = tagged.mask(width)
    inputs = CreditInputs(planning & real, real, None, None, 0.3, step_generator(0, 3))
    advantages, credit = get_credit_method(method).apply(grpo_advantages(rewards, groups), inputs, 0.2)
    output = {"prompt_ids": prompt_ids, "prompt_mask": prompt_mask, "completion_ids": completion_ids,
              "advantages": advantages}
    pending = pending_batch(tokenizer, 3, 0, [{"prompt_id": "", "answer": "", "task": "toy"}] * len(ids), output,
                            real, planning, credit, (logps, entropies), rewards >= 0.5, rewards, groups,
                            tagged.grams)
    trl_records = pending.finished_records()
    trl_metrics = engine_step_metrics(trl_records, pending.token_sums(), pending.grams, True, [CountingReward()])

    engine_ids = ("prompt_id", "group_id")  # the engines' own ids (dataset id / prompt hash, batch / step + uid)
    strip = [{k: v for k, v in r.items() if k not in engine_ids} for r in verl_records]
    assert strip == [{k: v for k, v in r.items() if k not in engine_ids} for r in trl_records]
    assert torch.equal(out.batch["hicra_credit_mask"], credit)  # the same draw for the random control
    assert verl_metrics.keys() == trl_metrics.keys() and "toy/boxed" in verl_metrics
    for key, value in verl_metrics.items():
        assert (math.isnan(value) and math.isnan(trl_metrics[key])) or value == pytest.approx(trl_metrics[key],
                                                                                               abs=1e-6), key
    assert verl_metrics["hicra/sg_count"] > 0 and verl_metrics["hicra/adv_planning"] != \
        verl_metrics["hicra/adv_execution"]
