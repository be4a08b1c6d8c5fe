"""HICRA on a verl batch: moves a ``verl.DataProto`` in and out of the shared layer (:mod:`hicra.engine`), §3.

:func:`apply_hicra` reads ``responses`` [B, T] (the exact sampled ids), ``response_mask`` [B, T] (1 on tokens the
actor optimises, 0 on padding and tool outputs), ``advantages`` [B, T] (verl's GRPO Â, the same on every real token),
``non_tensor_batch["uid"]`` (the prompt group) and, for methods that need it, ``entropy`` [B, T]. It tags the ids
(:func:`hicra.engine.credit.tag_rows`) and writes ``advantages`` = the registered method's credit
(:meth:`hicra.core.CreditMethod.apply`, Â + α|Â| on planning tokens for ``hicra``), plus ``planning_mask`` and
``hicra_credit_mask`` [B, T] bool. The input advantage is always verl's: the trainer applies it once per step, right
after verl's estimator. The batch must hold no padding rows (the trainer drops verl's ``is_padding`` rows first).

:func:`rollout_records` and :func:`step_metrics` give the rollout log and the ``hicra/*`` metrics of the same batch
through :mod:`hicra.engine.records` and :mod:`hicra.engine.metrics`. Only torch/numpy and duck-typed ``DataProto``
access here, so the module is testable on CPU with real verl objects and no Ray.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from hicra.core import CreditInputs, get_credit_method, long_correct_sequences
from hicra.engine.credit import TaggedRows, check_planning, tag_rows
from hicra.engine.metrics import step_metrics as build_step_metrics
from hicra.engine.metrics import token_sums
from hicra.engine.records import fill_token_stats, text_id
from hicra.engine.records import rollout_records as build_records
from hicra.tagging.tagger import PlanningTagger
from hicra.verl.config import HICRAVerlConfig


@dataclass
class TaggedBatch:
    """What :func:`apply_hicra` derived from a batch (kept for the rollout log and metrics)."""

    ids: list[list[int]]  # each row's ids up to its last optimised token
    group_ids: torch.Tensor  # [B] int prompt group
    rewards: torch.Tensor  # [B] total reward
    correct: torch.Tensor  # [B] bool
    tagged: TaggedRows


def response_lengths(response_mask: torch.Tensor) -> torch.Tensor:
    """[B] position after each row's last optimised token (tool-output gaps inside a response are kept)."""
    mask = response_mask.bool()
    last = torch.where(mask, torch.arange(mask.shape[1], device=mask.device), -1).amax(dim=1)
    return last + 1


def group_index(uids: Sequence[Any]) -> torch.Tensor:
    """[B] int group of each sample from verl's ``uid`` strings (groups may be shuffled and non-contiguous)."""
    _, inverse = np.unique(np.asarray([str(u) for u in uids], dtype=object), return_inverse=True)
    return torch.as_tensor(inverse.reshape(-1), dtype=torch.long)


def sequence_rewards(batch) -> torch.Tensor:
    """[B] total reward: ``token_level_rewards`` (after a KL penalty), else ``token_level_scores``/``rm_scores``."""
    for key in ("token_level_rewards", "token_level_scores", "rm_scores"):
        if key in batch.batch.keys():
            return batch.batch[key].float().sum(dim=-1)
    raise KeyError("the batch has none of token_level_rewards, token_level_scores, rm_scores")


def apply_hicra(batch, tagger: PlanningTagger, cfg: HICRAVerlConfig,
                generator: torch.Generator | None = None) -> tuple[Any, TaggedBatch]:
    """Write the credit of ``cfg.method`` into ``batch.batch["advantages"]`` (in place; the batch is returned too).

    Args:
        batch: a ``verl.DataProto`` holding verl's GRPO ``advantages`` (see module docstring for the keys).
        tagger: the planning tagger of the policy's tokenizer.
        cfg: ``algorithm.hicra``.
        generator: the step's draws for the random controls (:func:`hicra.engine.credit.step_generator`).

    Returns:
        ``(batch, tagged)``; ``batch.batch`` gains ``planning_mask`` and ``hicra_credit_mask``.
    """
    method = get_credit_method(cfg.method)
    mask = batch.batch["response_mask"].bool()
    lengths = response_lengths(mask)
    ids = [row[:n].tolist() for row, n in zip(batch.batch["responses"].cpu(), lengths.tolist())]
    tagged = tag_rows(tagger, ids)
    planning = tagged.mask(mask.shape[1], mask.device) & mask
    if cfg.require_planning:
        check_planning(tagger, ids, mask, planning)

    groups = group_index(batch.non_tensor_batch["uid"]).to(mask.device)
    rewards = sequence_rewards(batch).to(mask.device)
    correct = rewards >= cfg.correct_threshold
    entropies, eligible = None, None
    if method.needs_entropy:
        if "entropy" not in batch.batch.keys():
            raise KeyError(f"algorithm.hicra.method={cfg.method} needs the batch's per-token 'entropy' "
                           "(verl computes it with the old log-probs)")
        entropies = batch.batch["entropy"].float()
        if cfg.entropy_gate_long_correct:
            eligible = long_correct_sequences(correct, lengths, groups)
    inputs = CreditInputs(planning, mask, entropies, eligible, cfg.entropy_top_q, generator)
    advantages, credit = method.apply(batch.batch["advantages"], inputs, cfg.alpha)
    batch.batch["advantages"] = advantages
    batch.batch["planning_mask"] = planning
    batch.batch["hicra_credit_mask"] = credit if credit is not None else torch.zeros_like(mask)
    return batch, TaggedBatch(ids, groups, rewards, correct, tagged)


def _non_tensor(batch, key: str) -> list[Any]:
    values = batch.non_tensor_batch.get(key)
    return [None] * len(batch) if values is None else list(values)


def rollout_records(batch, info: TaggedBatch, tokenizer, step: int, prompts: Sequence[str]) -> list[dict[str, Any]]:
    """The rollout records of a batch that went through :func:`apply_hicra`.

    ``step`` counts optimizer updates before sampling (0 = initial policy; verl's ``global_steps`` − 1);
    ``prompts`` are the prompt texts as given to the model (chat template applied, no padding).
    ``prompt_id`` is a hash of the prompt text (stable across steps), ``group_id`` is ``{step}-{uid}``.
    """
    truths = [t.get("ground_truth") if isinstance(t, dict) else None for t in _non_tensor(batch, "reward_model")]
    records = build_records(
        step=step, prompt_ids=[text_id(p) for p in prompts],
        group_ids=[f"{step}-{u}" for u in _non_tensor(batch, "uid")], prompts=prompts,
        completions=tokenizer.batch_decode(info.ids, skip_special_tokens=True), completion_ids=info.ids,
        planning=batch.batch["planning_mask"], rewards=info.rewards.tolist(), correct=info.correct.tolist(),
        answers=["" if t is None else t for t in truths],
        tasks=["" if s is None else s for s in _non_tensor(batch, "data_source")])
    keys = batch.batch.keys()
    return fill_token_stats(records, batch.batch["old_log_probs"] if "old_log_probs" in keys else None,
                            batch.batch["entropy"] if "entropy" in keys else None)


def step_metrics(batch, info: TaggedBatch, records: Sequence[dict[str, Any]],
                 reward_funcs: Iterable[Any] = ()) -> dict[str, float]:
    """The ``hicra/*`` metrics (:mod:`hicra.engine.metrics`) of one verl step from its batch and records."""
    keys = batch.batch.keys()
    stats = "entropy" in keys and "old_log_probs" in keys
    sums = token_sums(batch.batch["response_mask"], batch.batch["planning_mask"], batch.batch["hicra_credit_mask"],
                      batch.batch["advantages"], batch.batch["entropy"] if stats else None,
                      batch.batch["old_log_probs"] if stats else None)
    grams = [g for row in info.tagged.grams for g in row]
    return build_step_metrics(records, sums, grams, stats, reward_funcs)
