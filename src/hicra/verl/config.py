"""``algorithm.hicra`` of a verl run: the HICRA options, one dataclass field each (arXiv 2509.03646, §3).

Set them as Hydra overrides of verl's ``ppo_trainer`` config, e.g. ``+algorithm.hicra.method=hicra
+algorithm.hicra.alpha=0.2`` (``+`` because verl's schema has no ``hicra`` key). No verl import here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from hicra.config import SEED, ConfigError, check_fields, option
from hicra.core import CREDIT_METHODS


@dataclass
class HICRAVerlConfig:
    """Credit assignment applied after verl's GRPO advantage; each field is ``algorithm.hicra.<name>``."""

    method: str = option(
        "hicra", "a credit-assignment method of hicra.core.registry: " + "; ".join(
            f"{k} = {m.description}" for k, m in CREDIT_METHODS.items()) + " (grpo keeps verl's GRPO advantage, "
        "records and metrics still written; entropy_reg needs actor_rollout_ref.actor.entropy_coeff > 0)",
        choices=tuple(CREDIT_METHODS))
    alpha: float = option(0.2, "α ∈ [0, 1), amplification of planning-token credit (paper: 0.2); 0 = GRPO; α ≥ 1 "
                               "would turn negative planning advantages positive", ge=0, lt=1)
    seed: int = option(0, "seed of the random control methods' token draws (with the step: a resume redraws the "
                          "same tokens)", **SEED)
    lexicon: str = option("paper", "Strategic-Gram lexicon: built-in name (paper) or a lexicon file (§2.1)")
    entropy_top_q: float = option(0.3, "hicra_entropy: fraction of each eligible response's tokens (highest "
                                       "entropy first) that get the bonus", gt=0, le=1)
    entropy_gate_long_correct: bool = option(True, "hicra_entropy: only correct responses longer than their "
                                                   "group's mean length are eligible")
    correct_threshold: float = option(0.5, "a response counts as correct when its total reward >= this (verl's "
                                           "math rewards: 1 correct, 0 or -1 wrong)")
    run_dir: str = option("", "where rollouts.jsonl and config.yaml are written; empty = trainer.default_local_dir")
    require_planning: bool = option(True, "fail when a step's planning mask is all zero although the decoded "
                                          "responses contain a Strategic Gram (tagging broken: never train plain "
                                          "GRPO silently)")

    def __post_init__(self) -> None:
        check_fields(self, "algorithm.hicra.")  # type, null, finite, and each field's declared range

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> "HICRAVerlConfig":
        """Build from the ``algorithm.hicra`` node (a dict or OmegaConf mapping); unknown keys are refused."""
        values = dict(values or {})
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ConfigError(f"algorithm.hicra.{unknown[0]}: unknown key; valid: {', '.join(names)}")
        return cls(**values)
