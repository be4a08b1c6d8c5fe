"""The ``rollouts.jsonl`` records of a step, for every engine (schema: :mod:`hicra.records`)."""

from __future__ import annotations

import hashlib
from typing import Any, Sequence

from torch import Tensor

from hicra.records import ROLLOUT_SCHEMA

DIGITS = 5  # decimals kept for per-token floats in the rollout log


def rounded_rows(values: Tensor, lengths: Sequence[int]) -> list[list[float]]:
    """Rows of [B, T] ``values`` cut at ``lengths`` and rounded to :data:`DIGITS` decimals (one vectorised pass).

    Division by 10^DIGITS in float64 is correctly rounded, so each value prints as its short decimal form.
    """
    scale = 10.0 ** DIGITS
    table = (values.detach().double() * scale).round().div_(scale).tolist()
    return [row[:n] for row, n in zip(table, lengths)]


def text_id(text: str) -> str:
    """A stable short id of a text (a prompt that carries no id of its own)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def rollout_records(*, step: int, prompt_ids: Sequence[str], group_ids: Sequence[str], prompts: Sequence[str],
                    completions: Sequence[str], completion_ids: Sequence[list[int]], planning: Tensor,
                    rewards: Sequence[float], correct: Sequence[bool], answers: Sequence[str],
                    tasks: Sequence[str]) -> list[dict[str, Any]]:
    """One record per completion; ``logprobs``/``entropies`` stay empty until :func:`fill_token_stats`.

    ``step`` counts the optimizer updates before the batch was sampled (0 = the initial policy); ``planning`` is the
    [B, T] mask, cut at each completion's length.
    """
    lengths = [len(c) for c in completion_ids]
    rows = [row[:n] for row, n in zip(planning.int().tolist(), lengths)]
    return [{"schema": ROLLOUT_SCHEMA, "step": step, "prompt_id": str(prompt_ids[i]), "group_id": str(group_ids[i]),
             "prompt": prompts[i], "completion": completions[i], "completion_ids": list(completion_ids[i]),
             "logprobs": [], "entropies": [], "planning": rows[i], "reward": float(rewards[i]),
             "correct": bool(correct[i]), "answer": str(answers[i]), "task": str(tasks[i])}
            for i in range(len(lengths))]


def fill_token_stats(records: list[dict[str, Any]], logps: Tensor | None,
                     entropies: Tensor | None) -> list[dict[str, Any]]:
    """Set the records' sampling-policy ``logprobs``/``entropies`` from [B, T] tensors (rounded, cut at each
    completion's length); a ``None`` leaves that field as it is."""
    lengths = [len(r["completion_ids"]) for r in records]
    for key, values in (("logprobs", logps), ("entropies", entropies)):
        if values is not None:
            for rec, row in zip(records, rounded_rows(values, lengths)):
                rec[key] = row
    return records
