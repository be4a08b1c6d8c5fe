"""Per-step training metrics of both engines (``RUN_DIR/metrics.jsonl``, TensorBoard, verl's logger) — arXiv
2509.03646, §2.2.

Every row of ``metrics.jsonl`` is one optimizer step (``step`` as in :mod:`hicra.engine.runlog`) with the keys below;
under TRL also TRL's own keys (``loss``, ``grad_norm``, ``learning_rate``, ``reward``, ``reward_std``,
``frac_reward_zero_std``, ``completions/*``, ``clip_ratio/*``, ``entropy``, ``step_time``, ``epoch``; see TRL's GRPO
docs). hicra's keys describe the generation batch that the step trained on; tokens are the real completion tokens of the whole (all-process) batch, planning
tokens those inside a Strategic-Gram occurrence (§2.1), execution tokens the rest.

=============================  =====================================================================================
key                            meaning
=============================  =====================================================================================
hicra/accuracy                 fraction of completions whose graded final answer is correct
hicra/reward                   mean total reward (correctness + shaping, see :mod:`hicra.rewards`)
hicra/groups_with_variance     fraction of prompt groups whose rewards are not all equal (only these get Â ≠ 0)
hicra/length                   mean completion length in tokens
hicra/planning_ratio           planning tokens / all tokens
hicra/entropy_planning         mean next-token entropy (nats) of the sampling policy on planning tokens (§2.2.1)
hicra/entropy_execution        the same on execution tokens
hicra/nll_planning             mean −log p(token) under the sampling policy on planning tokens (log-perplexity)
hicra/nll_execution            the same on execution tokens
hicra/semantic_entropy         Shannon entropy (nats) of the SG frequencies in the batch, occurrences nested in a longer
                               one not counted (§2.2.2; :func:`hicra.analysis.metrics.semantic_entropy`, as
                               ``hicra analyze``); undefined (null) when no SG occurs
hicra/sg_count                 Strategic-Gram occurrences in the batch (outermost ones, as counted above)
hicra/adv_planning             mean final per-token advantage on planning tokens (Â + α|Â| under hicra)
hicra/adv_execution            mean final per-token advantage on execution tokens
hicra/credit_tokens            fraction of tokens that received the method's extra credit (planning, entropy-gated
                               or, for the controls, drawn tokens)
=============================  =====================================================================================

A reward function (or any object in the engine's reward list) may add keys of its own: if it has a method
``step_metrics(records: list[dict]) -> dict[str, float]``, :func:`step_metrics` merges its result, computed on the
step's rollout records, into the row; if it also has ``summary_keys`` ((key, label) pairs), those keys join the
table ``hicra train`` prints at the end of a run.

Entropy/NLL keys need the sampling policy's token statistics (``log_token_stats``); without them they are absent.
They are taken from the temperature-scaled next-token distribution that generation samples from (before top-p/k).
A mean over an empty set (e.g. no planning token in the batch) is NaN and is written as ``null``.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import torch
from torch import Tensor

from hicra.analysis.metrics import semantic_entropy

# order of the entries of :func:`token_sums`
_SUMS = ("tokens", "planning", "credit", "ent_plan", "ent_exec", "nll_plan", "nll_exec", "adv_plan", "adv_exec")


def token_sums(mask: Tensor, planning: Tensor, credit: Tensor, advantages: Tensor,
               entropies: Tensor | None = None, logps: Tensor | None = None) -> Tensor:
    """[9] float64 sums over one process's batch, to be added across processes before :func:`token_metrics`.

    Args:
        mask: [B, T] real completion tokens. planning: [B, T] planning tokens. credit: [B, T] tokens given α|Â|.
        advantages: [B] or [B, T] final advantages. entropies, logps: optional [B, T] sampling-policy statistics.
    """
    m = mask.bool()
    p, e = m & planning.bool(), m & ~planning.bool()
    adv = advantages.unsqueeze(1).expand_as(mask) if advantages.dim() == 1 else advantages
    zero = torch.zeros((), dtype=torch.float64, device=mask.device)

    def total(x: Tensor | None, sel: Tensor) -> Tensor:
        return zero if x is None else x.double().masked_select(sel).sum()

    nll = None if logps is None else -logps
    return torch.stack([m.sum().double(), p.sum().double(), (m & credit.bool()).sum().double(),
                        total(entropies, p), total(entropies, e), total(nll, p), total(nll, e),
                        total(adv, p), total(adv, e)])


def _div(a: float, b: float) -> float:
    return a / b if b else float("nan")


def token_metrics(sums: Tensor, have_stats: bool) -> dict[str, float]:
    """The token-level ``hicra/*`` metrics from summed :func:`token_sums`."""
    s = dict(zip(_SUMS, sums.tolist()))
    n_exec = s["tokens"] - s["planning"]
    out = {
        "hicra/planning_ratio": _div(s["planning"], s["tokens"]),
        "hicra/credit_tokens": _div(s["credit"], s["tokens"]),
        "hicra/adv_planning": _div(s["adv_plan"], s["planning"]),
        "hicra/adv_execution": _div(s["adv_exec"], n_exec),
    }
    if have_stats:
        out.update({
            "hicra/entropy_planning": _div(s["ent_plan"], s["planning"]),
            "hicra/entropy_execution": _div(s["ent_exec"], n_exec),
            "hicra/nll_planning": _div(s["nll_plan"], s["planning"]),
            "hicra/nll_execution": _div(s["nll_exec"], n_exec),
        })
    return out


def sg_metrics(grams: Sequence[str]) -> dict[str, float]:
    """``hicra/semantic_entropy`` (nan without SGs) and ``hicra/sg_count`` of the (all-process) batch's SGs."""
    return {"hicra/semantic_entropy": semantic_entropy(grams), "hicra/sg_count": float(len(grams))}


def outcome_metrics(rewards: Sequence[float], correct: Sequence[bool], group_ids: Sequence[str],
                    lengths: Sequence[int]) -> dict[str, float]:
    """Accuracy, mean reward, mean length and the fraction of groups with reward variance."""
    groups: dict[str, set[float]] = {}
    for g, r in zip(group_ids, rewards):
        groups.setdefault(g, set()).add(round(float(r), 9))
    n = max(len(rewards), 1)
    return {
        "hicra/accuracy": sum(bool(c) for c in correct) / n,
        "hicra/reward": sum(float(r) for r in rewards) / n,
        "hicra/groups_with_variance": _div(sum(len(v) > 1 for v in groups.values()), len(groups)),
        "hicra/length": sum(lengths) / n,
    }


def step_metrics(records: Sequence[dict[str, Any]], sums: Tensor, grams: Sequence[str], have_stats: bool,
                 reward_funcs: Iterable[Any] = ()) -> dict[str, float]:
    """All ``hicra/*`` metrics of one step from its (all-process) rollout records, summed :func:`token_sums` and SGs,
    plus the ``step_metrics(records)`` of every reward function that defines it."""
    metrics = outcome_metrics([r["reward"] for r in records], [r["correct"] for r in records],
                              [r["group_id"] for r in records], [len(r["completion_ids"]) for r in records])
    metrics.update(token_metrics(sums, have_stats))
    metrics.update(sg_metrics(grams))
    for func in reward_funcs:
        hook = getattr(func, "step_metrics", None)
        if callable(hook):
            metrics.update({k: float(v) for k, v in hook(list(records)).items()})
    return metrics
