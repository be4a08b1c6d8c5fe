"""The algorithm core: pure tensor functions, one page per idea (arXiv 2509.03646)."""

from hicra.core.advantages import check_alpha, grpo_advantages, hicra_advantages
from hicra.core.controls import matched_random_mask, scaled_advantages
from hicra.core.masks import (
    entropy_bonus,
    entropy_gated_mask,
    fork_token_mask,
    long_correct_sequences,
    token_entropy,
)
from hicra.core.registry import (
    CREDIT_METHODS,
    CreditInputs,
    CreditMethod,
    check_method,
    get_credit_method,
    register_credit,
)

__all__ = [
    "CREDIT_METHODS",
    "CreditInputs",
    "CreditMethod",
    "check_alpha",
    "check_method",
    "entropy_bonus",
    "entropy_gated_mask",
    "fork_token_mask",
    "get_credit_method",
    "grpo_advantages",
    "hicra_advantages",
    "long_correct_sequences",
    "matched_random_mask",
    "register_credit",
    "scaled_advantages",
    "token_entropy",
]
