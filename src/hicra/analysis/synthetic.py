"""Synthetic training runs for tests, benchmarks and demos of the analysis (no model needed).

Completions are assembled from reasoning sentences (with Strategic Grams of the paper's lexicon) and arithmetic
sentences, tokenised with a real tokenizer, and given made-up per-token entropies and log-probabilities that follow
the paper's two-phase picture (§2.2): execution-token entropy falls quickly, planning tokens stay uncertain, the
variety of strategic phrases and the accuracy grow with the step. The records follow :mod:`hicra.records`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from hicra.io import write_jsonl, write_yaml
from hicra.records import ROLLOUT_SCHEMA

# ordered from the most common to the rarest: later steps draw from a longer prefix (growing strategic variety)
PLANS = [
    "Let me think about this step by step.", "First, I need to find the total.", "Wait, let me check that again.",
    "Alternatively, we can use the fact that the sum is fixed.", "But wait, the problem says each box is different.",
    "Let's try a different angle.", "On second thought, maybe I can simplify the problem.",
    "Let's double-check the arithmetic.", "The key insight is that the order does not matter.",
    "Hold on, that can't be right.", "Let's break this down into cases.", "Now we need to combine the results.",
    "Recall that the area of a triangle is half the base times the height.", "To verify, substitute back.",
]
STEPS = [
    "{a} + {b} = {s}.", "{a} * {b} = {p}.", "So the value is {s}.", "We get {a} * 2 = {d}.", "{s} - {b} = {a}.",
    "The total is {a} + {b} + {s} = {t}.", "Dividing {p} by {b} gives {a}.",
]


def _completion(rng: np.random.Generator, step: int, steps: int, correct: bool) -> tuple[str, str]:
    variety = 3 + int(round((len(PLANS) - 3) * step / max(steps - 1, 1)))
    a, b = int(rng.integers(2, 60)), int(rng.integers(2, 30))
    nums = {"a": a, "b": b, "s": a + b, "p": a * b, "d": 2 * a, "t": 2 * (a + b)}
    answer = a + b if correct else a + b + int(rng.integers(1, 9))
    parts = []
    for _ in range(int(rng.integers(3, 7))):
        parts.append(PLANS[int(rng.integers(0, variety))])
        parts.extend(STEPS[int(i)].format(**nums) for i in rng.integers(0, len(STEPS), size=int(rng.integers(1, 4))))
    parts.append(f"The answer is \\boxed{{{answer}}}.")
    return " ".join(parts), str(a + b)


def synthetic_records(tokenizer, tagger=None, steps: int = 6, prompts: int = 4, group: int = 4, seed: int = 0,
                      method: str = "hicra", texts_only: bool = False) -> list[dict[str, Any]]:
    """Rollout records of a made-up run; ``tagger`` (a PlanningTagger) shapes entropies by token class."""
    rng = np.random.default_rng(seed)
    speed = {"hicra": 1.4, "grpo": 1.0}.get(method, 0.8)  # how fast accuracy grows, per method
    rows = []
    for step in range(steps):
        p_correct = 0.2 + 0.7 * (1 - math.exp(-speed * step / max(steps, 1) * 2))
        for p in range(prompts):
            for g in range(group):
                correct = bool(rng.random() < p_correct)
                text, answer = _completion(rng, step, steps, correct)
                rows.append({"schema": ROLLOUT_SCHEMA, "step": step, "prompt_id": f"p{p}", "group_id": f"{step}-p{p}",
                             "prompt": f"Problem {p}: compute the sum.", "completion": text,
                             "reward": float(correct), "correct": correct, "answer": answer, "task": "synthetic"})
    if texts_only:
        return [{k: r[k] for k in ("step", "prompt_id", "completion", "reward")} for r in rows]
    ids = tokenizer([r["completion"] for r in rows], add_special_tokens=False)["input_ids"]
    masks = tagger.planning_masks(ids) if tagger is not None else [np.zeros(len(x), bool) for x in ids]
    for r, x, plan in zip(rows, ids, masks):
        frac = r["step"] / max(steps - 1, 1)
        exec_h = 0.25 + 1.1 * math.exp(-4 * frac * speed)  # phase 1: execution entropy collapses
        plan_h = 1.6 + 0.4 * frac  # planning tokens stay uncertain
        h = np.where(plan, plan_h, exec_h) * rng.gamma(4.0, 0.25, size=len(x))
        lp = -np.minimum(h * rng.uniform(0.3, 0.9, size=len(x)), 12.0)
        r.update(completion_ids=list(map(int, x)), logprobs=np.round(lp, 5).tolist(),
                 entropies=np.round(h, 5).tolist(), planning=plan.astype(int).tolist())
    return rows


def write_synthetic_run(run_dir: str | Path, tokenizer, tagger=None, method: str = "hicra", **kwargs) -> Path:
    """A run directory with ``rollouts.jsonl`` and a ``config.yaml`` naming the method; returns the directory."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "rollouts.jsonl", synthetic_records(tokenizer, tagger, method=method, **kwargs))
    write_yaml(run_dir / "config.yaml", {"method": method, "model": "smollm2"})
    return run_dir
