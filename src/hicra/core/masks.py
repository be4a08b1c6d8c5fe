"""Token selections from per-token entropy (arXiv 2509.03646, §4.5 and the entropy-gated HICRA variant).

Pure tensor functions. Shapes: B sequences, T completion positions; ``completion_mask`` [B, T] marks real tokens.

Deviation from the paper (named option ``method="hicra_entropy"``): the paper selects planning tokens by Strategic
Grams (§2.1). The public verl code behind the paper is reported (TRL PR #4997) to select instead the top-q highest
entropy tokens of each sequence, optionally only in correct responses longer than their group's mean length;
:func:`entropy_gated_mask` reproduces that selection so both can be compared.
"""

from __future__ import annotations

import torch
from torch import Tensor


def token_entropy(logits: Tensor) -> Tensor:
    """Shannon entropy H_t = −Σ_v p_t(v) log p_t(v) of the next-token distribution  (§2.2.1, §4.5).

    Args:
        logits: [..., V] unnormalised scores. Returns [...] entropies in nats.
    """
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(dim=-1)


def _top_q_per_row(values: Tensor, mask: Tensor, top_q: float) -> Tensor:
    """[B, T] bool: per row, the ceil(q·n) largest ``values`` among the n masked positions (ties broken by position)."""
    if not 0.0 < top_q <= 1.0:
        raise ValueError(f"top_q must be in (0, 1], got {top_q}")
    n = mask.bool().sum(dim=1)
    # keep ceil(q·n) tokens per sequence; q·n is rounded first so that 0.3 · 10 keeps 3, not 4
    k = torch.ceil(torch.round(n.to(torch.float64) * top_q, decimals=9)).to(torch.long)
    return top_k_per_row(values, mask, k)


def top_k_per_row(values: Tensor, mask: Tensor, k: Tensor) -> Tensor:
    """[B, T] bool: per row, the ``k[b]`` largest ``values`` among the masked positions (ties broken by position;
    fewer when the row has fewer masked positions)."""
    mask = mask.bool()
    ranked = torch.where(mask, values.float(), torch.full_like(values, float("-inf"), dtype=torch.float32))
    order = torch.argsort(ranked, dim=1, descending=True, stable=True)
    positions = torch.arange(order.shape[1], device=order.device).expand_as(order)
    rank = torch.empty_like(order).scatter_(1, order, positions)
    return (rank < k.to(rank.device).unsqueeze(1)) & mask


def fork_token_mask(entropies: Tensor, completion_mask: Tensor, top_q: float = 0.3) -> Tensor:
    """High-entropy "fork" tokens: the top-q fraction of each sequence's tokens by entropy  (§4.5, Fig. 8).

    Args:
        entropies: [B, T] token entropies under the sampling policy.
        completion_mask: [B, T] bool, real completion tokens.
        top_q: fraction kept per sequence (paper: 0.3, i.e. top 30%).

    Returns:
        [B, T] bool mask, false on padding.
    """
    return _top_q_per_row(entropies, completion_mask, top_q)


def entropy_gated_mask(
    entropies: Tensor,
    completion_mask: Tensor,
    top_q: float = 0.3,
    eligible: Tensor | None = None,
) -> Tensor:
    """Entropy-gated token selection of the verl HICRA variant (deviation from §3, see module docstring).

    Args:
        entropies: [B, T] token entropies.
        completion_mask: [B, T] bool, real completion tokens.
        top_q: fraction of each eligible sequence's tokens selected (highest entropy first).
        eligible: optional [B] bool; sequences where it is false get no selected token. Build it with
            :func:`long_correct_sequences` for the "correct and longer than the group mean" rule.

    Returns:
        [B, T] bool mask.
    """
    selected = _top_q_per_row(entropies, completion_mask, top_q)
    if eligible is not None:
        selected = selected & eligible.bool().unsqueeze(1)
    return selected


def long_correct_sequences(correct: Tensor, lengths: Tensor, group_ids: Tensor) -> Tensor:
    """[B] bool: correct responses strictly longer than the mean length of their prompt group.

    Args:
        correct: [B] bool/0-1 correctness. lengths: [B] completion lengths. group_ids: [B] group of each sequence.
    """
    _, inverse, counts = torch.unique(group_ids, return_inverse=True, return_counts=True)
    lengths = lengths.to(torch.float32)
    mean_len = torch.zeros(counts.numel(), dtype=torch.float32, device=lengths.device).index_add_(0, inverse, lengths) / counts
    return correct.bool() & (lengths > mean_len[inverse])


def entropy_bonus(entropies: Tensor, completion_mask: Tensor) -> Tensor:
    """Mean token entropy over real tokens, the quantity an entropy-regularised loss maximises (the baseline of
    §4.1/§4.3.2).

    The trainer subtracts ``coef * entropy_bonus`` from the policy loss. Returns a scalar.
    """
    mask = completion_mask.to(entropies.dtype)
    return (entropies * mask).sum() / mask.sum().clamp(min=1.0)
