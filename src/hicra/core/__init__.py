"""The algorithm core: pure tensor functions, one page per idea (arXiv 2509.03646)."""

from hicra.core.advantages import CREDIT_ASSIGNERS, check_method, grpo_advantages, hicra_advantages
from hicra.core.masks import (
    entropy_bonus,
    entropy_gated_mask,
    fork_token_mask,
    long_correct_sequences,
    token_entropy,
)

__all__ = [
    "CREDIT_ASSIGNERS",
    "check_method",
    "entropy_bonus",
    "entropy_gated_mask",
    "fork_token_mask",
    "grpo_advantages",
    "hicra_advantages",
    "long_correct_sequences",
    "token_entropy",
]
