"""HICRA on a verl batch: the pure transformation of a ``verl.DataProto`` after verl's GRPO advantage (§3).

:func:`apply_hicra` reads ``responses`` [B, T] (the exact sampled ids), ``response_mask`` [B, T] (1 on tokens the
actor optimises, 0 on padding and tool outputs), ``advantages`` [B, T] (verl's GRPO Â, the same on every real token),
``non_tensor_batch["uid"]`` (the prompt group) and, for ``hicra_entropy``, ``entropy`` [B, T] and
``token_level_rewards`` [B, T]. It tags the ids with :meth:`hicra.tagging.PlanningTagger.tag_ids` and writes
``advantages`` = :func:`hicra.core.hicra_advantages` (Â + α|Â| on the credited tokens), plus ``planning_mask`` and
``hicra_credit_mask`` [B, T] bool. The input advantage is always verl's: applying twice to one batch is not done
(the trainer applies it once per step, right after verl's estimator).

:func:`rollout_records` and :func:`step_metrics` give the rollout log of :mod:`hicra.records` and the ``hicra/*``
metrics of :mod:`hicra.trl.metrics` for the same batch. Only torch/numpy and duck-typed ``DataProto`` access here, so
the module is testable on CPU with real verl objects and no Ray.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from hicra.core import entropy_gated_mask, hicra_advantages, long_correct_sequences
from hicra.records import ROLLOUT_SCHEMA
from hicra.tagging.matcher import BATCH_SEPARATOR
from hicra.tagging.tagger import PlanningTagger, TaggedText
from hicra.trl.metrics import outcome_metrics, semantic_entropy, token_metrics, token_sums
from hicra.verl.config import HICRAVerlConfig

_DIGITS = 5  # decimals kept for per-token floats in the rollout log


class PlanningMaskError(RuntimeError):
    """The planning mask is empty although the responses' text contains Strategic Grams: tagging is broken."""


@dataclass
class TaggedBatch:
    """What :func:`apply_hicra` derived from a batch (kept for the rollout log and metrics)."""

    lengths: torch.Tensor  # [B] tokens up to the last optimised one
    group_ids: torch.Tensor  # [B] int prompt group
    rewards: torch.Tensor  # [B] total reward
    correct: torch.Tensor  # [B] bool
    tagged: list[TaggedText]


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


def check_planning(tagger: PlanningTagger, ids: list[list[int]], planning: torch.Tensor) -> None:
    """Raise :class:`PlanningMaskError` if the mask is all zero but the decoded text contains a Strategic Gram."""
    if bool(planning.any()) or not ids:
        return
    texts = tagger.tokenizer.batch_decode(ids, skip_special_tokens=True)
    found = tagger.matcher.match(BATCH_SEPARATOR.join(texts))
    if len(found.starts):
        gram = tagger.matcher.grams[int(found.grams[0])]
        raise PlanningMaskError(
            f"HICRA: the planning mask of this step is all zero, but the decoded responses contain {len(found.starts)} "
            f"Strategic-Gram occurrences (e.g. {gram!r}): token-id tagging does not match the tokenizer "
            f"({type(tagger.tokenizer).__name__}); refusing to train plain GRPO silently "
            f"(algorithm.hicra.require_planning=false skips this check)")


def apply_hicra(batch, tagger: PlanningTagger, cfg: HICRAVerlConfig) -> tuple[Any, TaggedBatch]:
    """Write HICRA advantages into ``batch.batch["advantages"]`` (in place; the batch is returned too).

    Args:
        batch: a ``verl.DataProto`` holding verl's GRPO ``advantages`` (see module docstring for the keys).
        tagger: the planning tagger of the policy's tokenizer.
        cfg: ``algorithm.hicra``.

    Returns:
        ``(batch, tagged)``; ``batch.batch`` gains ``planning_mask`` and ``hicra_credit_mask``.
    """
    responses = batch.batch["responses"]
    mask = batch.batch["response_mask"].bool()
    advantages = batch.batch["advantages"]
    lengths = response_lengths(mask)
    ids = [row[:n].tolist() for row, n in zip(responses.cpu(), lengths.tolist())]
    tagged = tagger.tag_ids(ids)
    planning = torch.zeros_like(mask)
    for i, t in enumerate(tagged):
        planning[i, : len(t.planning)] = torch.as_tensor(t.planning, device=mask.device)
    planning &= mask
    if cfg.require_planning:
        check_planning(tagger, ids, planning)

    groups = group_index(batch.non_tensor_batch["uid"]).to(mask.device)
    rewards = sequence_rewards(batch).to(mask.device)
    correct = rewards >= cfg.correct_threshold
    credit = credit_mask(cfg, planning, mask, batch, correct, lengths, groups)
    if credit is not None:
        batch.batch["advantages"] = hicra_advantages(advantages, credit, cfg.alpha)  # Â + α|Â|, §3
    batch.batch["planning_mask"] = planning
    batch.batch["hicra_credit_mask"] = credit if credit is not None else torch.zeros_like(mask)
    return batch, TaggedBatch(lengths, groups, rewards, correct, tagged)


def credit_mask(cfg: HICRAVerlConfig, planning, mask, batch, correct, lengths, groups) -> torch.Tensor | None:
    """[B, T] bool tokens that get α|Â| under ``cfg.method``, or ``None`` for grpo/entropy_reg (Â everywhere)."""
    if cfg.method == "hicra":
        return planning & mask
    if cfg.method == "hicra_entropy":
        if "entropy" not in batch.batch.keys():
            raise KeyError("algorithm.hicra.method=hicra_entropy needs the batch's per-token 'entropy' "
                           "(verl computes it with the old log-probs)")
        eligible = long_correct_sequences(correct, lengths, groups) if cfg.entropy_gate_long_correct else None
        return entropy_gated_mask(batch.batch["entropy"].float(), mask, cfg.entropy_top_q, eligible)
    return None


def _non_tensor(batch, key: str) -> list[Any]:
    values = batch.non_tensor_batch.get(key)
    return [None] * len(batch) if values is None else list(values)


def rollout_records(batch, info: TaggedBatch, tokenizer, step: int, prompts: Sequence[str]) -> list[dict[str, Any]]:
    """The rollout records (schema of :mod:`hicra.records`) of a batch that went through :func:`apply_hicra`.

    ``step`` counts optimizer updates before sampling (0 = initial policy; verl's ``global_steps`` − 1);
    ``prompts`` are the prompt texts as given to the model (chat template applied, no padding).
    ``prompt_id`` is a hash of the prompt text (stable across steps), ``group_id`` is ``{step}-{uid}``.
    """
    keys = batch.batch.keys()
    logps = batch.batch["old_log_probs"] if "old_log_probs" in keys else None
    ents = batch.batch["entropy"] if "entropy" in keys else None
    uids, truths = _non_tensor(batch, "uid"), _non_tensor(batch, "reward_model")
    sources = _non_tensor(batch, "data_source")
    records = []
    for i, t in enumerate(info.tagged):
        n = len(t.token_ids)
        truth = truths[i].get("ground_truth") if isinstance(truths[i], dict) else None
        records.append({
            "schema": ROLLOUT_SCHEMA, "step": step,
            "prompt_id": hashlib.sha1(prompts[i].encode("utf-8")).hexdigest()[:16],
            "group_id": f"{step}-{uids[i]}", "prompt": prompts[i],
            "completion": tokenizer.decode(t.token_ids, skip_special_tokens=True),
            "completion_ids": t.token_ids,
            "logprobs": [] if logps is None else [round(v, _DIGITS) for v in logps[i, :n].float().tolist()],
            "entropies": [] if ents is None else [round(v, _DIGITS) for v in ents[i, :n].float().tolist()],
            "planning": batch.batch["planning_mask"][i, :n].int().tolist(),
            "reward": float(info.rewards[i]), "correct": bool(info.correct[i]),
            "answer": "" if truth is None else str(truth), "task": "" if sources[i] is None else str(sources[i]),
        })
    return records


def step_metrics(batch, info: TaggedBatch) -> dict[str, float]:
    """The ``hicra/*`` metrics of :mod:`hicra.trl.metrics` for one verl step."""
    keys = batch.batch.keys()
    mask = batch.batch["response_mask"].bool()
    ents = batch.batch["entropy"] if "entropy" in keys else None
    logps = batch.batch["old_log_probs"] if "old_log_probs" in keys else None
    stats = ents is not None and logps is not None
    sums = token_sums(mask, batch.batch["planning_mask"], batch.batch["hicra_credit_mask"], batch.batch["advantages"],
                      ents if stats else None, logps if stats else None)
    metrics = outcome_metrics(info.rewards.tolist(), info.correct.tolist(), info.group_ids.tolist(),
                              mask.sum(dim=1).tolist())
    metrics.update(token_metrics(sums, stats))
    grams = [o.gram for t in info.tagged for o in t.spans]
    metrics["hicra/semantic_entropy"] = semantic_entropy(grams)
    metrics["hicra/sg_count"] = float(len(grams))
    return metrics
