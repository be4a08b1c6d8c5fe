"""Where a training step's time goes: wall time per phase of a TRL GRPO step (used by ``bench/``).

:func:`profile_phases` wraps methods of one trainer instance (never the class), so a plain ``trl.GRPOTrainer`` and
an :class:`~hicra.trl.trainer.HICRATrainer` are measured alike. Phases (seconds, accumulated until :meth:`reset`):

==========  =============================================================================================
generation  TRL's ``_generate`` (prompt tokenisation and sampling)
scoring     the reward functions (``_calculate_rewards``)
tagging     planning-token tagging of the completion ids (HICRA only)
records     building the rollout records, metrics, JSON writing (HICRA only)
forward     every policy forward: the loss pass and any old-policy / token-statistics pass
backward    ``accelerator.backward``
optimizer   ``optimizer.step`` and ``zero_grad`` (timed by the caller with :meth:`PhaseTimer.timed`)
==========  =============================================================================================

``rollout`` is the whole ``_generate_and_score_completions`` (generation, scoring, tagging, advantages, ...);
``grad_forward`` the forwards made with gradients enabled (the loss passes). Counters: ``generated_tokens``,
``forward_tokens``/``head_tokens`` (positions of gradient forwards, and those the LM head scores),
``nograd_forward_tokens``/``nograd_head_tokens`` (no-grad forwards).
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Callable, Iterator

PHASES = ("generation", "scoring", "tagging", "records", "forward", "backward", "optimizer")


class PhaseTimer:
    """Accumulated wall seconds per phase, plus counters (e.g. processed tokens) that the wrapped calls report."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, float] = defaultdict(float)

    def reset(self) -> None:
        self.seconds.clear()
        self.counts.clear()

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - started

    def wrap(self, owner: Any, name: str, phase: str, count: Callable[..., dict[str, float]] | None = None,
             after: Callable[[Any], dict[str, float]] | None = None) -> None:
        """Time every call of ``owner.name`` as ``phase``; ``count(*args, **kwargs)`` and ``after(result)`` add to
        :attr:`counts`. A call made with gradients enabled is also added to ``grad_<phase>``."""
        inner = getattr(owner, name)

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            import torch

            for key, value in (count(*args, **kwargs) if count else {}).items():
                self.counts[key] += value
            started = time.perf_counter()
            result = inner(*args, **kwargs)
            elapsed = time.perf_counter() - started
            self.seconds[phase] += elapsed
            if torch.is_grad_enabled():
                self.seconds[f"grad_{phase}"] += elapsed
            for key, value in (after(result) if after else {}).items():
                self.counts[key] += value
            return result

        setattr(owner, name, timed_call)


def _forward_tokens(model, input_ids, attention_mask, logits_to_keep, *args, **kwargs) -> dict[str, float]:
    """Positions a policy forward processes: all of them, and the completion positions the LM head scores."""
    import torch

    prefix = "" if torch.is_grad_enabled() else "nograd_"
    rows, width = input_ids.shape
    return {f"{prefix}forward_tokens": float(rows * width), f"{prefix}head_tokens": float(rows * logits_to_keep)}


def _generated_tokens(output: dict[str, Any]) -> dict[str, float]:
    return {"generated_tokens": float(output["completion_mask"].sum())}


def profile_phases(trainer) -> PhaseTimer:
    """A :class:`PhaseTimer` attached to ``trainer`` (generation, scoring, tagging, records, forward, backward)."""
    timer = PhaseTimer()
    timer.wrap(trainer, "_generate", "generation")
    timer.wrap(trainer, "_generate_and_score_completions", "rollout", after=_generated_tokens)
    timer.wrap(trainer, "_calculate_rewards", "scoring")
    timer.wrap(trainer, "_get_per_token_logps_and_entropies", "forward", count=_forward_tokens)
    timer.wrap(trainer.accelerator, "backward", "backward")
    if hasattr(trainer, "tagger"):
        timer.wrap(trainer.tagger, "tag_ids", "tagging")
        timer.wrap(trainer, "_pending_batch", "records")
        timer.wrap(trainer, "_flush", "records")
    return timer
