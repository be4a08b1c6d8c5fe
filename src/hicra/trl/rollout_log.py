"""One generation batch's rollout records, waiting for the sampling policy's token statistics (arXiv 2509.03646, §2.2).

The per-token log-probs and entropies of ``rollouts.jsonl`` (and the ``hicra/entropy_*``, ``hicra/nll_*`` metrics)
come from forward passes TRL already does — the old-policy pass of a generation batch when TRL runs one, otherwise
the loss pass, where the policy is still the sampling policy (see :mod:`hicra.trl.trainer`). The loss pass sees the
batch shuffled and split into ``steps_per_generation`` slices, so every row carries its index (``ROW_KEY``) and a
:class:`PendingBatch` collects the values slice by slice; once every row has them the records are complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

ROW_KEY = "rollout_row"  # [B] index of each row of the generation batch, carried through TRL's shuffle and split
DIGITS = 5  # decimals kept for per-token floats in the rollout log


def rounded_rows(values: Tensor, lengths: list[int]) -> list[list[float]]:
    """Rows of [B, T] ``values`` cut at ``lengths`` and rounded to :data:`DIGITS` decimals (one vectorised pass).

    Division by 10^DIGITS in float64 is correctly rounded, so each value prints as its short decimal form.
    """
    scale = 10.0 ** DIGITS
    table = (values.detach().double() * scale).round().div_(scale).tolist()
    return [row[:n] for row, n in zip(table, lengths)]


@dataclass
class PendingBatch:
    """The local generation batch's records and [B, T] tensors, until the token statistics of every row are known."""

    records: list[dict[str, Any]]
    lengths: list[int]
    real: Tensor  # [B, T] real completion tokens
    planning: Tensor  # [B, T] planning tokens
    credit: Tensor  # [B, T] tokens given α|Â|
    advantages: Tensor  # [B] or [B, T] final advantages
    grams: list[str]  # SGs of the batch's maximal occurrences (§2.2.2)
    logps: Tensor | None = None  # [B, T] sampling-policy log-probs, filled by rows
    entropies: Tensor | None = None
    seen: Tensor = field(init=False)

    def __post_init__(self) -> None:
        self.seen = torch.zeros(len(self.records), dtype=torch.bool)
        if self.logps is not None:
            self.seen[:] = True

    @property
    def complete(self) -> bool:
        return bool(self.seen.all())

    def fill(self, rows: Tensor, logps: Tensor, entropies: Tensor) -> None:
        """Store the statistics of ``rows`` (a slice of the batch, in TRL's order); rows already filled are kept."""
        rows = rows.to("cpu")
        new = ~self.seen[rows]
        if not new.any():
            return
        if self.logps is None:
            self.logps = torch.zeros(self.real.shape, dtype=torch.float32, device=self.real.device)
            self.entropies = torch.zeros_like(self.logps)
        width = logps.shape[1]  # slices keep the batch's padded completion width
        target = rows[new].to(self.logps.device)
        self.logps[target, :width] = logps.detach()[new.to(logps.device)].float()
        self.entropies[target, :width] = entropies.detach()[new.to(entropies.device)].float()
        self.seen[rows[new]] = True

    def finished_records(self, with_stats: bool) -> list[dict[str, Any]]:
        """The records with ``logprobs``/``entropies`` filled (empty lists without statistics)."""
        if with_stats and self.logps is not None:
            for rec, lp, ent in zip(self.records, rounded_rows(self.logps, self.lengths),
                                    rounded_rows(self.entropies, self.lengths)):
                rec["logprobs"], rec["entropies"] = lp, ent
        return self.records
