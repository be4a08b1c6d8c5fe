"""The plugin's advantages reach verl's policy loss: after ``_compute_advantage`` on a real TransferQueue the batch is
fetched as verl's actor worker fetches it (``_meta_to_realdata``) and verl's own ``ppo_loss`` runs on given
log-probs; the loss and its gradient equal a hand computation from hicra.core's advantages and differ from GRPO's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tensordict import TensorDict
from test_batch import REWARDS, TEXTS, UIDS
from test_trainer import make_trainer, put_step

from hicra.core import (
    entropy_gated_mask,
    grpo_advantages,
    hicra_advantages,
    long_correct_sequences,
    matched_random_mask,
)
from hicra.engine.credit import step_generator, tag_rows

ALPHA = 0.2


def nested(rows: list[torch.Tensor]) -> torch.Tensor:
    return torch.nested.as_nested_tensor(rows, layout=torch.jagged)


def queue_step(queue, trainer, prefix: str, pad_to: int | None):
    """A step in the queue as verl has it before the advantage: samples (optionally padded with verl's synthetic
    rows), then old/ref log-probs and entropies written for every row, as verl's log-prob workers write them."""
    from verl.trainer.ppo.padding_utils import upsample_batch_to_divisible_size

    meta = put_step(queue, trainer.tokenizer, prefix=prefix)
    if pad_to:
        meta = upsample_batch_to_divisible_size(meta, pad_to, trainer.tokenizer.eos_token_id)
    lengths = queue.kv_batch_get(keys=meta.keys, partition_id="train",
                                 select_fields=["responses"])["responses"].offsets().diff().tolist()
    gen = torch.Generator().manual_seed(len(prefix))
    old = [-2 * torch.rand(n, generator=gen) for n in lengths]
    stats = {"old_log_probs": old, "ref_log_prob": [x - 0.5 * torch.rand(len(x), generator=gen) for x in old],
             "entropy": [3 * torch.rand(n, generator=gen) for n in lengths]}
    fields = TensorDict({k: nested(v) for k, v in stats.items()}, batch_size=len(meta))
    return queue.kv_batch_put(keys=meta.keys, partition_id="train", fields=fields), stats


def padded(rows: list[torch.Tensor], width: int) -> torch.Tensor:
    return torch.stack([torch.nn.functional.pad(r.float(), (0, width - len(r))) for r in rows])


def verl_policy_loss(trainer, meta, log_probs: torch.Tensor):
    """verl's ppo_loss on the batch the actor worker fetches, with ``log_probs`` [B, T] as the model output."""
    from verl.utils import tensordict_utils as tu
    from verl.utils.config import omega_conf_to_dataclass
    from verl.utils.transferqueue_utils import _meta_to_realdata
    from verl.workers.utils.losses import ppo_loss

    data = _meta_to_realdata(meta)  # what tqbridge hands the worker's update_actor
    prompt_lens = data["prompts"].offsets().diff().tolist()
    response_lens = data["responses"].offsets().diff().tolist()
    mask = data["response_mask"].to_padded_tensor(padding=0)
    tu.assign_non_tensor(data, dp_size=1, batch_num_tokens=int(mask.sum()), global_batch_size=len(meta))
    # the engine's output: one log-prob per position of prompt + response, shifted by one (position p predicts p + 1)
    values = torch.cat([torch.cat([torch.zeros(p - 1), log_probs[i, :r], torch.zeros(1)])
                        for i, (p, r) in enumerate(zip(prompt_lens, response_lens))])
    config = omega_conf_to_dataclass(trainer.config.actor_rollout_ref.actor)
    loss, _ = ppo_loss(config, {"log_probs": values}, data)
    return loss, mask


CASES = {  # method, padding rows, KL penalty in the reward
    "hicra": ("hicra", None, False),
    "hicra-padding-kl": ("hicra", 5, True),
    "hicra_entropy-padding": ("hicra_entropy", 5, False),
    "hicra_random": ("hicra_random", None, False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_verl_policy_loss_consumes_hicra_advantages(queue, tmp_path, case):
    method, pad_to, kl = CASES[case]
    overrides = [f"++algorithm.hicra.method={method}", f"+algorithm.hicra.alpha={ALPHA}",
                 "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=4",
                 "+algorithm.hicra.entropy_gate_long_correct=true"]
    if kl:
        overrides += ["algorithm.use_kl_in_reward=true", "algorithm.kl_ctrl.kl_coef=0.5"]
    trainer = make_trainer(tmp_path, overrides)
    meta, stats = queue_step(queue, trainer, f"{case}-", pad_to)
    meta = trainer._compute_advantage(meta, {})

    # hand computation from hicra.core on the real rows; padding rows (mask 0) add nothing
    n = len(TEXTS)
    ids = [trainer.tokenizer(t, add_special_tokens=False)["input_ids"] for t in TEXTS]
    width = max(map(len, ids))
    real = torch.arange(width)[None] < torch.tensor([len(x) for x in ids])[:, None]
    old = padded(stats["old_log_probs"][:n], width)
    rewards = torch.tensor(REWARDS)
    if kl:  # verl's reward after its KL penalty: scores − β·(old − ref) on every response token
        rewards = rewards - 0.5 * ((old - padded(stats["ref_log_prob"][:n], width)) * real).sum(1)
    groups = torch.as_tensor(np.unique(np.array(UIDS), return_inverse=True)[1])
    seq = grpo_advantages(rewards, groups)
    planning = tag_rows(trainer.tagger, ids).mask(width) & real
    if method == "hicra_entropy":
        eligible = long_correct_sequences(rewards >= 0.5, real.sum(1), groups)
        credit = entropy_gated_mask(padded(stats["entropy"][:n], width), real, 0.3, eligible)
    elif method == "hicra_random":
        credit = matched_random_mask(planning, real, step_generator(0, 0))
    else:
        credit = planning
    assert credit.any() and not credit[real].all()
    expected = hicra_advantages(seq, credit, ALPHA) * real
    grpo = seq[:, None] * real

    log_probs = torch.zeros(len(meta), width)  # padding rows: one masked response token each
    delta = 0.05 * torch.sin(torch.arange(width, dtype=torch.float32))[None]  # ratios inside the clip range
    log_probs[:n] = old + delta
    log_probs.requires_grad_(True)
    loss, mask = verl_policy_loss(trainer, meta, log_probs)
    loss.backward()

    assert int(mask.sum()) == int(real.sum())  # padding rows carry no optimised token
    tokens = real.sum()
    ratio = torch.exp(delta).expand(n, -1)
    hand_loss = -(expected * ratio * real).sum() / tokens  # PPO-clip, unclipped: −Σ A·ratio / N
    hand_grad = -(expected * ratio * real) / tokens  # ∂loss/∂log π = −A·ratio / N
    assert loss.item() == pytest.approx(hand_loss.item(), abs=1e-6)
    torch.testing.assert_close(log_probs.grad[:n], hand_grad, atol=1e-7, rtol=1e-5)
    assert log_probs.grad[n:].abs().sum() == 0
    grpo_loss = -(grpo * ratio * real).sum() / tokens
    assert abs(loss.item() - grpo_loss.item()) > 1e-4
    assert not torch.allclose(log_probs.grad[:n], -(grpo * ratio * real) / tokens)
