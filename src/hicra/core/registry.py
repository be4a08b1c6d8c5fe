"""Credit-assignment methods registered by name: the one list of ``method`` values for every engine (arXiv
2509.03646, §3).

A :class:`CreditMethod` picks the tokens that get extra credit (its *selection*) and says how that credit combines
with the outcome advantage Â. Engines call :meth:`CreditMethod.apply` with a :class:`CreditInputs`; a new method is
one :func:`register_credit` call here and reaches both engines. ``hicra_random``, ``hicra_execution`` and
``hicra_scaled`` are control arms that are not in the paper (:mod:`hicra.core.controls`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from hicra.core.advantages import check_alpha, hicra_advantages
from hicra.core.controls import matched_random_mask, scaled_advantages
from hicra.core.masks import entropy_gated_mask


@dataclass(frozen=True)
class CreditInputs:
    """What a selection may read, all for one batch of B completions over T positions."""

    planning: Tensor  # [B, T] bool, Strategic-Gram tokens among the real ones (§2.1)
    real: Tensor  # [B, T] bool, the tokens the policy loss optimises
    entropies: Tensor | None = None  # [B, T] sampling-policy token entropies (needs_entropy methods)
    eligible: Tensor | None = None  # [B] bool, sequences the entropy gate may select (None: all)
    top_q: float = 0.3  # fraction of an eligible sequence's tokens the entropy gate selects
    generator: torch.Generator | None = None  # draws of the random controls (needs_generator methods)


Selection = Callable[[CreditInputs], "Tensor | None"]


@dataclass(frozen=True)
class CreditMethod:
    """A registered method: ``select`` gives the [B, T] credited tokens (None: Â everywhere, as GRPO)."""

    name: str
    description: str
    select: Selection
    combine: Callable[[Tensor, Tensor, float], Tensor] = hicra_advantages
    needs_entropy: bool = False
    needs_generator: bool = False

    def apply(self, advantages: Tensor, inputs: CreditInputs, alpha: float) -> tuple[Tensor, Tensor | None]:
        """``(final advantages, credit mask or None)``; Â is returned untouched when nothing is selected."""
        check_alpha(alpha)
        if self.needs_entropy and inputs.entropies is None:
            raise ValueError(f"method {self.name!r} needs the sampling policy's token entropies")
        if self.needs_generator and inputs.generator is None:
            raise ValueError(f"method {self.name!r} needs a seeded torch.Generator")
        mask = self.select(inputs)
        if mask is None:
            return advantages, None
        return self.combine(advantages, mask, alpha), mask


CREDIT_METHODS: dict[str, CreditMethod] = {}


def register_credit(name: str, description: str, **options) -> Callable[[Selection], Selection]:
    """Decorator registering a selection under ``name`` (options: ``combine``, ``needs_entropy``,
    ``needs_generator``); a name can be registered once."""
    def register(select: Selection) -> Selection:
        if name in CREDIT_METHODS:
            raise ValueError(f"credit method {name!r} is already registered")
        CREDIT_METHODS[name] = CreditMethod(name, description, select, **options)
        return select
    return register


def get_credit_method(name: str) -> CreditMethod:
    """The method registered as ``name``; an unknown name raises one error listing the valid ones."""
    if name not in CREDIT_METHODS:
        raise ValueError(f"unknown method {name!r}; valid: {', '.join(CREDIT_METHODS)}")
    return CREDIT_METHODS[name]


def check_method(name: str) -> str:
    """Return ``name`` if it is a registered method, else raise listing the valid ones."""
    return get_credit_method(name).name


@register_credit("grpo", "same advantage Â on every token (GRPO baseline)")
def _grpo(inputs: CreditInputs) -> None:
    return None


@register_credit("hicra", "Â + α|Â| on Strategic-Gram planning tokens (paper §3)")
def _planning(inputs: CreditInputs) -> Tensor:
    return inputs.planning.bool() & inputs.real.bool()


@register_credit("hicra_entropy", "Â + α|Â| on entropy-gated tokens (verl variant; see masks.entropy_gated_mask)",
                 needs_entropy=True)
def _entropy_gated(inputs: CreditInputs) -> Tensor:
    return entropy_gated_mask(inputs.entropies, inputs.real, inputs.top_q, inputs.eligible)


@register_credit("entropy_reg", "GRPO advantages plus a token-entropy bonus in the loss (baseline, paper §4.1/§4.3.2)")
def _entropy_reg(inputs: CreditInputs) -> None:
    return None  # the bonus is the engine's own loss term


@register_credit("hicra_random", "control, not in the paper: Â + α|Â| on as many uniformly drawn tokens of each "
                                 "completion as it has planning tokens", needs_generator=True)
def _random(inputs: CreditInputs) -> Tensor:
    return matched_random_mask(_planning(inputs), inputs.real.bool(), inputs.generator)


@register_credit("hicra_execution", "control, not in the paper: the same count of tokens drawn among execution "
                                    "tokens only", needs_generator=True)
def _execution(inputs: CreditInputs) -> Tensor:
    planning = _planning(inputs)
    return matched_random_mask(planning, inputs.real.bool() & ~planning, inputs.generator)


@register_credit("hicra_scaled", "control, not in the paper: (1 + α)·Â on planning tokens for both signs of Â",
                 combine=scaled_advantages)
def _scaled(inputs: CreditInputs) -> Tensor:
    return _planning(inputs)
