"""HICRA inside TRL: exact GRPO at α = 0, (1 ± α)Â on planning tokens after TRL's shuffle, no compounding."""

from __future__ import annotations

import json

import pytest
import torch
from trl import GRPOTrainer

from hicra.core import entropy_bonus, grpo_advantages, hicra_advantages, matched_random_mask
from hicra.engine.credit import step_generator
from hicra.trl.config import HICRAConfig
from hicra.trl.run import build_trainer
from hicra.trl.trainer import HICRATrainer
from recording import GenerationRecorder


def text_reward(completions, **_):
    """A deterministic reward with variance inside groups: a checksum of the completion text."""
    from hicra.rewards import completion_text

    return [float(sum(map(ord, completion_text(c))) % 5) for c in completions]


class Capture(HICRATrainer):
    """Records every micro-batch exactly as TRL hands it to the loss (after shuffling and splitting)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen: list[dict] = []

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        self.seen.append({k: v.detach().clone() if torch.is_tensor(v) else v for k, v in inputs.items()})
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)


def _train(values, cls=HICRATrainer):
    trainer = build_trainer(HICRAConfig(**values), extra_rewards=[text_reward], trainer_cls=cls)
    trainer.train()
    return trainer


def _real(inputs):
    return inputs["completion_mask"].bool()


@pytest.mark.parametrize("method, lora_r", [("hicra", 0), ("hicra", 4), ("hicra_random", 0), ("hicra_execution", 0),
                                            ("hicra_scaled", 0)], ids=["full", "lora", "random", "execution",
                                                                       "scaled"])
def test_alpha_zero_reproduces_grpo_parameters_exactly(tiny_values, tmp_path, method, lora_r):
    # TRL's own sampling on both sides, so both sample the same completions
    values = dict(tiny_values, learning_rate=1e-2, max_steps=2, lora_r=lora_r, fast_generation=False)
    hicra = _train(dict(values, method=method, hicra_alpha=0.0, output_dir=str(tmp_path / "h")))
    grpo = _train(dict(values, output_dir=str(tmp_path / "g")), cls=GRPOTrainer)
    a, b = hicra.model.state_dict(), grpo.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    if lora_r:  # the adapters' B matrices start at zero
        assert any(k.endswith("lora_B.default.weight") and a[k].abs().sum() > 0 for k in a)
        return
    from transformers import AutoModelForCausalLM

    start = AutoModelForCausalLM.from_pretrained(values["model"]).state_dict()
    assert any(not torch.equal(a[k], start[k]) for k in a)  # the updates were not zero


def test_planning_tokens_get_one_plus_minus_alpha_after_shuffle(tiny_values):
    alpha = 0.5
    trainer = _train(dict(tiny_values, hicra_alpha=alpha, gradient_accumulation_steps=2, steps_per_generation=2,
                          max_steps=2), cls=Capture)
    records = [json.loads(x) for x in (trainer.run_dir / "rollouts.jsonl").read_text().splitlines()]
    # Â recomputed from the logged rewards, per generation batch (group ids are unique per batch)
    rewards = torch.tensor([r["reward"] for r in records])
    groups = {g: i for i, g in enumerate(dict.fromkeys(r["group_id"] for r in records))}
    expected_adv = grpo_advantages(rewards, torch.tensor([groups[r["group_id"]] for r in records]))
    by_ids = {(r["step"], tuple(r["completion_ids"])): a for r, a in zip(records, expected_adv.tolist())}
    checked_planning = 0
    assert len(trainer.seen) == 4
    for step, inputs in enumerate(trainer.seen):
        adv, seq, plan = inputs["advantages"], inputs["sequence_advantages"], inputs["planning_mask"]
        real = _real(inputs)
        assert adv.dim() == 2 and adv.shape == plan.shape
        expected = torch.where(plan & real, seq[:, None] + alpha * seq[:, None].abs(), seq[:, None].expand_as(adv))
        assert torch.equal(adv[real], expected[real])
        pos, neg = plan & real & (seq[:, None] > 0), plan & real & (seq[:, None] < 0)
        assert torch.allclose(adv[pos], ((1 + alpha) * seq[:, None].expand_as(adv))[pos])
        assert torch.allclose(adv[neg], ((1 - alpha) * seq[:, None].expand_as(adv))[neg])
        checked_planning += int((pos | neg).sum())
        for i in range(adv.shape[0]):  # each row's mask and Â belong to that row's own completion ids
            n = int(real[i].sum())
            ids = inputs["completion_ids"][i, :n].tolist()
            assert trainer.tagger.planning_masks([ids])[0].tolist() == plan[i, :n].tolist()
            assert seq[i].item() == pytest.approx(by_ids[(step // 2, tuple(ids))], abs=1e-3)
    assert checked_planning > 0


def test_num_iterations_two_reuses_without_compounding(tiny_values):
    alpha = 0.5
    trainer = _train(dict(tiny_values, hicra_alpha=alpha, num_iterations=2, max_steps=2), cls=Capture)
    first, second = trainer.seen
    assert torch.equal(first["completion_ids"], second["completion_ids"])  # one generation, used twice
    assert torch.equal(first["advantages"], second["advantages"])
    seq, plan = first["sequence_advantages"], first["planning_mask"] & _real(first)
    once = torch.where(plan, seq[:, None] * 1 + alpha * seq[:, None].abs(), seq[:, None].expand_as(plan).float())
    assert torch.equal(first["advantages"][_real(first)], once[_real(first)])
    assert len((trainer.run_dir / "rollouts.jsonl").read_text().splitlines()) == 4  # one generation batch


def test_grpo_and_entropy_reg_keep_sequence_advantages(tiny_values):
    trainer = _train(dict(tiny_values, method="grpo", max_steps=1), cls=Capture)
    assert trainer.seen[0]["advantages"].dim() == 1
    assert torch.equal(trainer.seen[0]["advantages"], trainer.seen[0]["sequence_advantages"])


def test_entropy_reg_is_trl_loss_minus_coef_times_core_entropy_bonus(tiny_values):
    trainer = _train(dict(tiny_values, method="entropy_reg", entropy_reg_coef=0.3, max_steps=1), cls=Capture)
    assert trainer.args.entropy_coef == 0.3 and trainer._entropy_bonus_enabled
    inputs = trainer.seen[0]
    trainer.model.eval()  # deterministic forward; same loss code path
    with torch.no_grad():
        with_bonus = trainer._compute_loss(trainer.model, inputs)
        trainer.entropy_coef, trainer._entropy_bonus_enabled = 0.0, False
        without = trainer._compute_loss(trainer.model, inputs)
        ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1)
        attention = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1)
        _, ent, _ = trainer._get_per_token_logps_and_entropies(trainer.model, ids, attention,
                                                               inputs["completion_ids"].shape[1], compute_entropy=True)
    bonus = entropy_bonus(ent, inputs["completion_mask"]) / trainer.current_gradient_accumulation_steps
    assert with_bonus.item() == pytest.approx((without - 0.3 * bonus).item(), abs=1e-6)


def test_entropy_gated_variant_selects_top_q_of_eligible_sequences(tiny_values):
    trainer = _train(dict(tiny_values, method="hicra_entropy", entropy_gate_long_correct=False, entropy_top_q=0.5,
                          hicra_alpha=0.5, max_steps=1), cls=Capture)
    inputs = trainer.seen[0]
    adv, seq, real = inputs["advantages"], inputs["sequence_advantages"], _real(inputs)
    bonus = (adv != seq[:, None]) & real
    nonzero = seq != 0
    counts = real.sum(1)
    assert torch.equal(bonus.sum(1)[nonzero], torch.ceil(counts[nonzero] * 0.5).long())
    row = json.loads((trainer.run_dir / "metrics.jsonl").read_text().splitlines()[0])
    assert 0.4 < row["hicra/credit_tokens"] <= 0.7


@pytest.mark.parametrize("method", ["hicra_random", "hicra_execution"])
def test_random_controls_draw_planning_many_tokens_from_the_step_generator(tiny_values, method):
    alpha = 0.5
    trainer = _train(dict(tiny_values, method=method, hicra_alpha=alpha, max_steps=2), cls=GenerationRecorder)
    drawn = 0
    for index, inputs in enumerate(trainer.batches):  # one generation batch per step, rows in generation order
        adv, seq, plan, real = (inputs["advantages"], inputs["sequence_advantages"], inputs["planning_mask"],
                                _real(inputs))
        among = real if method == "hicra_random" else real & ~plan
        expected = matched_random_mask(plan & real, among, step_generator(trainer.args.seed, index))
        assert torch.equal(adv, hicra_advantages(seq, expected, alpha))  # seeded from the run seed and the batch
        assert torch.equal(expected.sum(1), torch.minimum((plan & real).sum(1), among.sum(1)))
        drawn += int(expected.sum())
    assert drawn > 0


class BoxedShare:
    """A reward function with the ``step_metrics`` hook (its keys go into metrics.jsonl)."""

    __name__ = "boxed_share"

    def __call__(self, completions, **_):
        return [0.0] * len(completions)

    def step_metrics(self, records):
        return {"toy/records": float(len(records))}


def test_reward_functions_step_metrics_reach_metrics_jsonl(tiny_values):
    trainer = build_trainer(HICRAConfig(**dict(tiny_values, max_steps=1)), extra_rewards=[BoxedShare()])
    trainer.train()
    row = json.loads((trainer.run_dir / "metrics.jsonl").read_text().splitlines()[0])
    assert row["toy/records"] == 4.0  # 2 prompts × 2 samples


def test_group_ids_and_slices_follow_trl_process_layout():
    from types import SimpleNamespace

    # TRL hands process p the contiguous slice [p·B, (p+1)·B) of the gathered batch; groups are consecutive there
    fake = SimpleNamespace(accelerator=SimpleNamespace(process_index=1, device="cpu"), num_generations=4)
    assert HICRATrainer._group_ids(fake, 6).tolist() == [1, 1, 2, 2, 2, 2]
    assert HICRATrainer._process_slice(fake, 6) == slice(6, 12)
