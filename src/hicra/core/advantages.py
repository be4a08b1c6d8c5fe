"""Outcome advantages and hierarchy-aware credit assignment (arXiv 2509.03646, §3).

Pure tensor functions: no I/O, no framework imports. Every symbol is named as in the paper.

Deviations from the paper, each a named option:
- ``scale="group"`` divides by the group's reward std (the usual GRPO form); the paper's §3 writes Â = R − mean(R),
  which is ``scale="none"``. ``scale="batch"`` divides by the batch std (Dr. GRPO / TRL ``scale_rewards="batch"``).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

AdvantageScale = Literal["group", "batch", "none"]


def grpo_advantages(
    rewards: Tensor, group_ids: Tensor, scale: AdvantageScale = "group", eps: float = 1e-6
) -> Tensor:
    """Group-relative outcome advantage Â_i = (R_i − mean_{g(i)} R) / s  (§3, GRPO).

    Args:
        rewards: [B] float, the scalar outcome reward R_i of each completion.
        group_ids: [B] int, the prompt group of each completion; groups may be in any order, of any size.
        scale: ``"group"``: s = std of the group (unbiased, as GRPO); ``"batch"``: s = std of the whole batch;
            ``"none"``: s = 1, the paper's R − mean form.
        eps: added to s. A group whose rewards are all equal has Â = 0 exactly (its centred rewards are 0).

    Returns:
        [B] float advantages.
    """
    if rewards.dim() != 1 or group_ids.shape != rewards.shape:
        raise ValueError(f"rewards and group_ids must both be [B]; got {tuple(rewards.shape)} and {tuple(group_ids.shape)}")
    rewards = rewards.to(torch.float32)
    _, inverse, counts = torch.unique(group_ids, return_inverse=True, return_counts=True)
    n_groups = counts.numel()
    sums = torch.zeros(n_groups, dtype=rewards.dtype, device=rewards.device).index_add_(0, inverse, rewards)
    means = sums / counts
    centred = rewards - means[inverse]  # R_i − mean_g R
    if scale == "none":
        return centred
    if scale == "group":
        sq = torch.zeros_like(sums).index_add_(0, inverse, centred.square())
        std = torch.sqrt(sq / (counts - 1).clamp(min=1))
        return centred / (std[inverse] + eps)
    if scale == "batch":
        std = rewards.std() if rewards.numel() > 1 else rewards.new_zeros(())
        return centred / (std + eps)
    raise ValueError(f"unknown scale {scale!r}; valid: 'group', 'batch', 'none'")


def check_alpha(alpha: float) -> float:
    """Return α if it is in [0, 1), else raise: α ≥ 1 would make (1 − α)Â of a negative Â non-negative (§3)."""
    if not 0.0 <= alpha < 1.0:  # also refuses NaN
        raise ValueError(f"alpha must be in [0, 1), got {alpha}")
    return alpha


def broadcast_advantages(advantages: Tensor, mask: Tensor) -> Tensor:
    """[B] per-sequence or [B, T] advantages as [B, T], checked against the [B, T] ``mask``."""
    if mask.dim() != 2:
        raise ValueError(f"planning_mask must be [B, T]; got {tuple(mask.shape)}")
    if advantages.dim() == 1:
        advantages = advantages.unsqueeze(1).expand(-1, mask.shape[1])
    if advantages.shape != mask.shape:
        raise ValueError(f"advantages {tuple(advantages.shape)} do not match planning_mask {tuple(mask.shape)}")
    return advantages


def hicra_advantages(advantages: Tensor, planning_mask: Tensor, alpha: float = 0.2) -> Tensor:
    """HICRA credit assignment: Â_t + α·|Â_t| on planning tokens, Â_t on execution tokens  (§3, Eq. HICRA).

    Args:
        advantages: [B] per-sequence or [B, T] per-token advantages Â.
        planning_mask: [B, T] bool/0-1, true where token t lies inside a Strategic Gram occurrence.
        alpha: α ∈ [0, 1), the amplification of planning-token credit (paper: 0.2). α = 0 gives GRPO exactly;
            α ≥ 1 would make (1 − α)Â of a negative Â non-negative, rewarding planning tokens of failed
            completions, so it is refused.

    Returns:
        a new [B, T] tensor; the input is never modified, so re-applying to a buffered batch cannot compound.
    """
    check_alpha(alpha)
    advantages = broadcast_advantages(advantages, planning_mask)
    bonus = alpha * advantages.abs() * planning_mask.to(advantages.dtype)  # α|Â| on planning tokens
    return advantages + bonus
