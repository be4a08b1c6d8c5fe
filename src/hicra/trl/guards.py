"""Stop a run whose numbers stopped being numbers, before a checkpoint of NaN weights is saved.

A NaN/inf reward, advantage or loss turns every parameter into NaN within one optimizer step, and the run would go on
"training" (and checkpointing) a dead model with exit status 0. :class:`NonFiniteGuard` checks, every optimizer step:

- the model's trained parameters after the update (``on_step_end``, which the Trainer calls before it logs or saves, so no
  checkpoint of the step is written), whatever ``logging_steps`` is;
- the logged ``loss``, ``grad_norm``, rewards (``reward``, ``rewards/FUNC/mean``) and advantage metrics
  (``on_log``, called before the step's checkpoint is saved). Rewards matter on their own: TRL 1.16 replaces NaN
  advantages by 0 (``nan_to_num``), so an infinite reward would silently stop all learning instead of crashing.

It raises a :class:`RuntimeError` naming the step, the value and the last good checkpoint; the run directory's
logs and earlier checkpoints stay as they are, and ``hicra train --resume`` can continue from that checkpoint.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from transformers import TrainerCallback

from hicra.models import last_checkpoint

CHECKED_LOGS = ("loss", "grad_norm", "reward")


def _is_checked(key: str) -> bool:
    return (key in CHECKED_LOGS or (key.startswith("rewards/") and key.endswith("/mean"))
            or "adv" in key.rsplit("/", 1)[-1])


class NonFiniteGuard(TrainerCallback):
    """Raise a clear error at the first non-finite weight, loss, gradient norm or advantage (see module docstring)."""

    def _stop(self, args, step: int, what: str) -> None:
        checkpoint, _ = last_checkpoint(Path(args.output_dir))
        kept = f"the last good checkpoint is {checkpoint}" if checkpoint else "no checkpoint was saved before it"
        raise RuntimeError(f"step {step}: {what}; training stopped (usually a NaN/inf reward, advantage or a too "
                           f"high learning rate); {kept}")

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if model is None:
            return
        # only what the optimizer updates (frozen weights, e.g. under LoRA, cannot turn NaN); one device sync
        trained = [(name, p) for name, p in model.named_parameters() if p.requires_grad and p.numel()]
        if not trained:
            return
        finite = torch.stack([p.detach().isfinite().all() for _, p in trained])
        if not bool(finite.all()):
            name = trained[int((~finite).nonzero()[0])][0]
            self._stop(args, state.global_step, f"non-finite weights in {name} after the optimizer step")

    def on_log(self, args, state, control, logs=None, **kwargs):
        for key, value in (logs or {}).items():
            if _is_checked(key) and isinstance(value, (int, float)) and not math.isfinite(value):
                self._stop(args, state.global_step, f"logged {key} is {value}")
