"""Micro-batches of similar completion length (the speed option ``length_grouped_micro_batches``).

TRL shuffles a generation batch and splits it into ``steps_per_generation`` micro-batches that all keep the batch's
padded completion width T, so a micro-batch of short completions still runs its forward and backward over T
positions per row. :func:`regroup_by_length` re-splits the same rows sorted by completion length and drops the
completion columns that are padding in every row of a micro-batch. On SmolLM2's CPU default (a few long
completions among many short ones) that removes about a fifth of the positions of the loss passes.

The gradient is unchanged (up to float summation order) when every micro-batch's loss is a sum over its tokens with
a normaliser that does not depend on the split, and all micro-batches of a generation batch go into one optimizer
step: :func:`exactness_problems` names every setting for which that does not hold, and the trainer then keeps
TRL's split.
"""

from __future__ import annotations

from typing import Any

import torch

# keys whose dim 1 is the completion axis (TRL 1.16's generation output plus the trainer's own [B, T] tensors)
COMPLETION_AXIS_KEYS = ("completion_ids", "completion_mask", "advantages", "planning_mask", "old_per_token_logps",
                        "ref_per_token_logps", "sampling_per_token_logps", "importance_sampling_ratio", "tool_mask")
# loss types whose micro-batch losses add up to the generation batch's loss whatever the split (equal-size chunks)
SPLIT_INVARIANT_LOSSES = ("dapo", "cispo", "dr_grpo", "grpo")


def exactness_problems(loss_type: str, steps_per_generation: int, gradient_accumulation_steps: int,
                       top_entropy_quantile: float) -> list[str]:
    """Why regrouping would change the update for these TRL settings (empty: it would not)."""
    problems = []
    if loss_type not in SPLIT_INVARIANT_LOSSES:
        problems.append(f"loss_type {loss_type!r} normalises each micro-batch on its own")
    if steps_per_generation != gradient_accumulation_steps:
        problems.append(f"steps_per_generation ({steps_per_generation}) != gradient_accumulation_steps "
                        f"({gradient_accumulation_steps}): optimizer steps would each see one length class")
    if top_entropy_quantile < 1.0:
        problems.append("top_entropy_quantile < 1 takes its entropy quantile per micro-batch")
    return problems


def merge_chunks(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The generation batch that TRL's split made ``chunks`` from (rows concatenated; scalars and None kept)."""
    merged: dict[str, Any] = {}
    for key, first in chunks[0].items():
        if first is None or (isinstance(first, torch.Tensor) and first.ndim == 0):
            merged[key] = first
        elif isinstance(first, torch.Tensor):
            merged[key] = torch.cat([chunk[key] for chunk in chunks])
        else:
            merged[key] = [row for chunk in chunks for row in chunk[key]]
    return merged


def completion_lengths(mask: torch.Tensor, full: int) -> torch.Tensor:
    """[B] positions each row needs: its masked length, or ``full`` for rows whose mask is all zero (TRL's
    ``mask_truncated_completions`` zeroes the mask of a truncated row; its tokens still exist)."""
    n = mask.sum(dim=1)
    return torch.where(n > 0, n, torch.full_like(n, full))


def regroup_by_length(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of ``chunks`` re-split into as many equal micro-batches, sorted by completion length, each cut to
    its longest completion (rows and per-row values are unchanged; only padding columns go)."""
    batch = merge_chunks(chunks)
    ids, mask = batch["completion_ids"], batch["completion_mask"]
    width = ids.shape[1]
    lengths = completion_lengths(mask, width)
    order = torch.argsort(lengths, stable=True)
    size = ids.shape[0] // len(chunks)
    regrouped = []
    for start in range(0, size * len(chunks), size):
        rows = order[start:start + size]
        keep = max(int(lengths[rows].max()), 1)
        chunk: dict[str, Any] = {}
        for key, value in batch.items():
            if value is None or (isinstance(value, torch.Tensor) and value.ndim == 0):
                chunk[key] = value
            elif isinstance(value, torch.Tensor):
                picked = value[rows.to(value.device)]
                if key in COMPLETION_AXIS_KEYS and picked.ndim >= 2 and picked.shape[1] == width:
                    picked = picked[:, :keep]
                chunk[key] = picked
            else:
                chunk[key] = [value[i] for i in rows.tolist()]
        regrouped.append(chunk)
    return regrouped
