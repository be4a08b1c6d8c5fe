"""Training throughput of the default ``hicra train`` step on this machine, and how close it gets to the CPU's limit.

Arms (built from the same model file, problems, reward and seed, interleaved with a rotating order; ``--arms``):

- ``default``: ``hicra train``'s defaults (full fine-tuning, one torch thread per core, no extra forward).
- ``previous``: the settings the defaults replaced: one torch thread, TRL's own micro-batch split, and the no-grad
  token-statistics forward of the generation batch that every method ran before the statistics came from TRL's own
  passes (``hicra_entropy`` still runs exactly that pass, so the arm trains that method; its other work is the same).
- ``trl_split``: the defaults with TRL's shuffled micro-batches (``length_grouped_micro_batches`` off).
- ``one_thread``: the defaults on one torch thread (what threads alone give).
- ``lora``: LoRA adapters of rank 16 (peft) on the frozen base, lr 1e-4, the default threads.

Every arm runs real optimizer steps of the default shape (2 prompts × 8 samples, 96-token completions, 2
micro-batches). Per arm it reports the phase profile of a step (:mod:`hicra.trl.profiling`), generation tokens/s,
training tokens/s, and the achieved FLOP/s of forward+backward as a fraction of the measured dense-matmul peak
(a large fp32 ``torch.matmul``, same thread count, measured in the same run).

FLOPs (stated, not guessed): N_body = parameters outside the embedding/LM head, N_head = LM-head parameters, N_lora =
adapter parameters; T = positions processed (padded prompt+completion, all micro-batches), T_c = completion positions.
forward = 2·(N_body + N_lora)·T + 2·N_head·T_c. backward, full fine-tuning: 4·N_body·T + 4·N_head·T_c (activation and
weight gradients). backward, LoRA: 2·N_body·T + 2·N_head·T_c (activation gradients through the frozen weights) +
4·N_lora·T (adapter gradients). Attention score FLOPs (≈ 4·layers·d·S² per sequence, a few % at S ≈ 170) and
element-wise work are not counted, so the fraction is a slight underestimate.

    python bench/train_speed.py                       # default and previous, 2 rounds (a few minutes on 2 cores)
    python bench/train_speed.py --arms default,previous,trl_split,one_thread,lora --rounds 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _arms import (arm_parser, interleaved_rounds, optimizer_step, parse_arms, print_profile,  # noqa: E402
                   ratio_line, ready)

ARMS = {
    "default": {},
    "previous": {"torch_threads": 1, "method": "hicra_entropy", "length_grouped_micro_batches": False},
    "trl_split": {"length_grouped_micro_batches": False},
    "one_thread": {"torch_threads": 1},
    "lora": {"lora_r": 16, "learning_rate": 1e-4},
}


def threads_of(values: dict) -> int:
    """The torch thread count an arm trains with (``torch_threads`` 0 = one per core)."""
    from hicra.trl.config import HICRAConfig

    threads = values.get("torch_threads", HICRAConfig.__dataclass_fields__["torch_threads"].default)
    return threads or os.cpu_count() or 1


def make_arm(arm: str, args: argparse.Namespace, out: str):
    from hicra.trl.config import HICRAConfig
    from hicra.trl.profiling import profile_phases
    from hicra.trl.run import build_trainer

    values = ARMS[arm]
    torch.set_num_threads(threads_of(values))
    config = HICRAConfig(output_dir=f"{out}/{arm}", model=args.model, seed=args.seed, max_steps=args.rounds + 1,
                         save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=True, **values)
    trainer, batches = ready(build_trainer(config), args.rounds + 1)
    return {"trainer": trainer, "batches": batches, "timer": profile_phases(trainer), "threads": threads_of(values),
            "steps": [], "profiles": []}


def parameter_counts(model) -> dict[str, float]:
    """N_body, N_head (LM head, tied or not) and N_lora of ``model`` (a peft model or a plain causal LM)."""
    lora = sum(p.numel() for n, p in model.named_parameters() if "lora_" in n)
    head = model.get_output_embeddings().weight.numel()
    embed = model.get_input_embeddings().weight
    tied = model.get_output_embeddings().weight.data_ptr() == embed.data_ptr()
    total = sum(p.numel() for n, p in model.named_parameters() if "lora_" not in n)
    body = total - embed.numel() - (0 if tied else head)
    return {"body": body, "head": head, "lora": lora}


def step_flops(counts: dict[str, float], tokens: dict[str, float], lora: bool) -> tuple[float, float]:
    """(forward, backward) FLOPs of the gradient passes of one step (formulas in the module docstring)."""
    t, tc = tokens.get("forward_tokens", 0.0), tokens.get("head_tokens", 0.0)
    body, head, adapters = counts["body"], counts["head"], counts["lora"]
    forward = 2 * (body + adapters) * t + 2 * head * tc
    backward = (2 * body * t + 2 * head * tc + 4 * adapters * t) if lora else (4 * body * t + 4 * head * tc)
    return forward, backward


def matmul_peak(threads: int, n: int = 2048, reps: int = 5) -> float:
    """Best FLOP/s of an n×n fp32 matmul with ``threads`` torch threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * n ** 3 / best


def main() -> None:
    parser = arm_parser(__doc__, list(ARMS), "default,previous", "smollm2", "policy (default: smollm2)", rounds=2)
    args, arms = parse_arms(parser, list(ARMS))

    with tempfile.TemporaryDirectory() as out:
        built = {arm: make_arm(arm, args, out) for arm in arms}

        def step(arm: str, timed: bool) -> float:
            a = built[arm]
            torch.set_num_threads(a["threads"])
            a["timer"].reset()
            took = optimizer_step(a["trainer"], a["batches"], a["timer"])
            if timed:
                a["steps"].append(took)
                a["profiles"].append((dict(a["timer"].seconds), dict(a["timer"].counts), took))
            return took

        interleaved_rounds(arms, args.rounds, args.seed, step, digits=1)
        peaks = {t: matmul_peak(t) for t in sorted({a["threads"] for a in built.values()})}

    lines = []
    for arm in arms:
        a = built[arm]
        model = a["trainer"].model
        counts = parameter_counts(model)
        lora = counts["lora"] > 0
        seconds = {k: statistics.median(p[0].get(k, 0.0) for p in a["profiles"]) for k in
                   ("generation", "forward", "backward", "optimizer")}
        gen_tokens = statistics.median(p[1].get("generated_tokens", 0.0) for p in a["profiles"])
        fwd_flops, bwd_flops = (statistics.median(x) for x in zip(*(step_flops(counts, p[1], lora)
                                                                    for p in a["profiles"])))
        grad_seconds = statistics.median(p[0].get("grad_forward", 0.0) + p[0].get("backward", 0.0)
                                         for p in a["profiles"])
        train_tokens = statistics.median(p[1].get("forward_tokens", 0.0) for p in a["profiles"])
        train_seconds = grad_seconds + seconds["optimizer"]
        print_profile(f"{arm} ({a['threads']} thread{'s' if a['threads'] > 1 else ''}, "
                      f"{'LoRA r=' + str(a['trainer'].args.lora_r) if lora else 'full fine-tuning'}, "
                      f"{counts['lora'] / 1e6 if lora else counts['body'] / 1e6 + counts['head'] / 1e6:.1f}M trained)",
                      [p[0] for p in a["profiles"]], [p[2] for p in a["profiles"]])
        peak = peaks[a["threads"]]
        achieved = (fwd_flops + bwd_flops) / grad_seconds if grad_seconds else float("nan")
        lines.append(f"{arm}: step {statistics.median(a['steps']):.1f}s; generation "
                     f"{gen_tokens / seconds['generation']:.0f} tok/s; training {train_tokens / train_seconds:.0f} "
                     f"tok/s; forward+backward {achieved / 1e9:.1f} GFLOP/s = {achieved / peak:.0%} of the measured "
                     f"{a['threads']}-thread matmul peak {peak / 1e9:.1f} GFLOP/s")
    print()
    for line in lines:
        print(line)
    if "default" in built and "previous" in built:
        print(ratio_line("previous / default", built["previous"]["steps"], built["default"]["steps"], digits=2)
              + " (target >= 2)")


if __name__ == "__main__":
    main()
