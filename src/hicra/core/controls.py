"""Control arms for HICRA's credit assignment: NOT in the paper (arXiv 2509.03646, §3 defines only HICRA).

They test whether it is credit on *planning* tokens that matters, rather than more advantage mass or HICRA's
asymmetry (Â + α|Â| also makes the planning tokens of a failed completion less negative):

- :func:`matched_random_mask` with ``among = real tokens`` (method ``hicra_random``): α|Â| on as many tokens per
  completion as it has planning tokens, drawn uniformly among its real tokens;
- the same with ``among = execution tokens`` (method ``hicra_execution``);
- :func:`scaled_advantages` (method ``hicra_scaled``): (1 + α)·Â on planning tokens for both signs of Â.

Pure tensor functions; the draws come from an explicit ``torch.Generator`` so a run (and its resume) is reproducible.
"""

from __future__ import annotations

import torch
from torch import Tensor

from hicra.core.advantages import broadcast_advantages, check_alpha
from hicra.core.masks import top_k_per_row


def matched_random_mask(planning: Tensor, among: Tensor, generator: torch.Generator) -> Tensor:
    """[B, T] bool: per row, as many positions of ``among`` as the row has planning tokens, drawn uniformly without
    replacement (all of ``among`` when it has fewer). A control arm, not in the paper (see module docstring).

    Args:
        planning: [B, T] bool planning tokens (real tokens only). among: [B, T] bool candidate positions.
        generator: a CPU ``torch.Generator``; the same seed gives the same draw.
    """
    keys = torch.rand(planning.shape, generator=generator).to(planning.device)  # uniform keys → uniform subset
    return top_k_per_row(keys, among, planning.bool().sum(dim=1))


def scaled_advantages(advantages: Tensor, mask: Tensor, alpha: float = 0.2) -> Tensor:
    """(1 + α)·Â on ``mask`` tokens, Â elsewhere, for both signs of Â: the control ``hicra_scaled`` (not in the
    paper; HICRA's Â + α|Â| of §3 differs from it only where Â < 0). α = 0 gives Â exactly. Returns a new [B, T]."""
    check_alpha(alpha)
    advantages = broadcast_advantages(advantages, mask)
    return advantages + alpha * advantages * mask.to(advantages.dtype)
