"""One generation batch's rollout records, waiting for the sampling policy's token statistics (arXiv 2509.03646, §2.2).

The per-token log-probs and entropies of ``rollouts.jsonl`` (and the ``hicra/entropy_*``, ``hicra/nll_*`` metrics)
come from forward passes TRL already does — the old-policy pass of a generation batch when TRL runs one, otherwise
the loss pass, where the policy is still the sampling policy (see :mod:`hicra.trl.trainer`). The loss pass sees the
batch shuffled and split into ``steps_per_generation`` slices, so every row carries its index (``ROW_KEY``) and a
:class:`PendingBatch` collects the values slice by slice; once every row has them the records are complete.
:class:`RolloutLog` holds the pending batch and the capture of those passes, with an explicit lifecycle.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch
from torch import Tensor

from hicra.engine.metrics import token_sums
from hicra.engine.records import fill_token_stats, rollout_records

ROW_KEY = "rollout_row"  # [B] index of each row of the generation batch, carried through TRL's shuffle and split
Stats = tuple[Tensor, Tensor]  # [B, T] log-probs and entropies of the sampling policy


@dataclass
class PendingBatch:
    """The local generation batch's records and [B, T] tensors, until the token statistics of every row are known."""

    records: list[dict[str, Any]]
    real: Tensor  # [B, T] real completion tokens
    planning: Tensor  # [B, T] planning tokens
    credit: Tensor  # [B, T] tokens given extra credit
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

    def finished_records(self) -> list[dict[str, Any]]:
        """The records with ``logprobs``/``entropies`` filled (empty lists without statistics)."""
        if self.logps is not None:
            fill_token_stats(self.records, self.logps, self.entropies)
        return self.records

    def token_sums(self) -> Tensor:
        """This process's :func:`hicra.engine.metrics.token_sums` of the batch."""
        return token_sums(self.real, self.planning, self.credit, self.advantages, self.entropies, self.logps)


def pending_batch(tokenizer, step: int, batch_index: int, inputs: list[dict[str, Any]], output: dict[str, Any],
                  real: Tensor, planning: Tensor, credit: Tensor | None, stats: Stats | None, correct: Tensor,
                  rewards: Tensor, group_ids: Tensor, grams: list[list[str]]) -> PendingBatch:
    """A TRL generation batch's records (statistics still missing unless ``stats``) and what its metrics need.

    ``output`` is TRL's generation output (``prompt_ids``, ``prompt_mask``, ``completion_ids``, final
    ``advantages``); ``group_id`` is ``"{batch_index}-{group}"``, unique per prompt group over the run.
    """
    ids = [row[: int(n)] for row, n in zip(output["completion_ids"].tolist(), real.sum(dim=1).tolist())]
    prompt_rows = [row[m.bool()].tolist() for row, m in zip(output["prompt_ids"], output["prompt_mask"])]
    records = rollout_records(
        step=step, prompt_ids=[x.get("prompt_id", "") for x in inputs],
        group_ids=[f"{batch_index}-{g}" for g in group_ids.tolist()], prompts=tokenizer.batch_decode(prompt_rows),
        completions=tokenizer.batch_decode(ids, skip_special_tokens=True), completion_ids=ids, planning=planning,
        rewards=rewards.tolist(), correct=correct.tolist(), answers=[x.get("answer", "") for x in inputs],
        tasks=[x.get("task", "") for x in inputs])
    return PendingBatch(records, real, planning, credit if credit is not None else torch.zeros_like(real),
                        output["advantages"], [g for row in grams for g in row],
                        None if stats is None else stats[0], None if stats is None else stats[1])


class RolloutLog:
    """The trainer's rollout log state: the pending batch and the capture of the sampling policy's statistics.

    Lifecycle of one generation batch:

    1. ``with log.generation(old_pass)``: around TRL's generation; when TRL runs its old-policy pass there, the first
       policy forward inside (:meth:`observe`) is captured; :meth:`take` returns it afterwards.
    2. :meth:`open` the batch's :class:`PendingBatch` (returning the previous one, to be flushed).
    3. ``with log.loss_pass(rows)``: around each loss pass of an incomplete batch; its forward fills ``rows``.
    4. :meth:`pop` the batch once :attr:`complete` (or when the next batch opens) and write it.
    """

    def __init__(self) -> None:
        self._armed = False  # the next policy forward is the sampling policy's: capture it
        self._captured: Stats | None = None
        self.pending: PendingBatch | None = None

    @property
    def armed(self) -> bool:
        """Whether the next policy forward should also compute (and hand over) token entropies."""
        return self._armed

    def observe(self, logps: Tensor, entropies: Tensor | None) -> None:
        """Called with every policy forward's output; keeps a detached copy of the first one after arming."""
        if self._armed and entropies is not None:
            self._captured = (logps.detach().float(), entropies.detach().float())
        self._armed = False

    @contextmanager
    def generation(self, old_pass: bool) -> Iterator[None]:
        self._armed, self._captured = old_pass, None
        try:
            yield
        finally:
            self._armed = False

    def take(self) -> Stats | None:
        """The captured statistics (once)."""
        stats, self._captured = self._captured, None
        return stats

    def open(self, batch: PendingBatch) -> PendingBatch | None:
        previous, self.pending = self.pending, batch
        return previous

    def pop(self) -> PendingBatch | None:
        batch, self.pending = self.pending, None
        return batch

    def fills(self, rows: Tensor | None) -> bool:
        """Whether a loss pass over ``rows`` should fill the pending batch's statistics."""
        return self.pending is not None and rows is not None and not self.pending.complete

    @property
    def complete(self) -> bool:
        return self.pending is not None and self.pending.complete

    @contextmanager
    def loss_pass(self, rows: Tensor) -> Iterator[None]:
        self._armed, self._captured = True, None
        try:
            yield
        finally:
            self._armed = False
        stats = self.take()
        if stats is not None and self.pending is not None:
            self.pending.fill(rows, *stats)
