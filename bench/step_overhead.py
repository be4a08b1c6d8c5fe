"""Step-time overhead of hicra's methods over plain TRL GRPO (arXiv 2509.03646, §3), measured side by side.

Baseline ``trl``: the stock, unsubclassed ``trl.GRPOTrainer`` (TRL's own logging only) built from the same model file,
problems, reward, seed and settings (``hicra train``'s defaults: full fine-tuning, 2 prompts × 8 samples, 96-token
completions, 2 micro-batches). Arms: ``hicra`` (HICRATrainer with the rollout log and metrics on), ``hicra_entropy``
(entropy-gated: it keeps one no-grad forward per generation batch for its gate), ``entropy_reg``, and
``hicra_trl_split``: ``hicra`` with TRL's own shuffled micro-batches (``length_grouped_micro_batches`` off), so that
hicra's own cost is measured apart from that speed option. The learning rate is
0, so the weights stay put and, with the same RNG seed per round, every arm samples the same completions (the bench
prints each arm's completion tokens per round to show it). A step is a full optimizer step: generation, reward,
advantages, tagging, rollout records, loss forwards, backward, optimizer.

Rounds interleave the arms with a rotating order (round 0 warms up and is not counted); each round gives a paired
ratio arm / trl, summarised by median, mean and range. The phase profile of each arm's step comes first, the ratio
lines last.

    python bench/step_overhead.py                                   # trl, hicra; 4 rounds (a few minutes on 2 cores)
    python bench/step_overhead.py --arms trl,hicra,hicra_entropy,entropy_reg --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from contextlib import nullcontext

import torch

ARMS = ("trl", "hicra", "hicra_trl_split", "hicra_entropy", "entropy_reg")


def make_trainer(arm: str, args: argparse.Namespace, out: str):
    from trl import GRPOTrainer

    from hicra.trl.config import HICRAConfig
    from hicra.trl.run import build_trainer

    config = HICRAConfig(output_dir=f"{out}/{arm}", model=args.model,
                         method="hicra" if arm == "trl" else arm.removesuffix("_trl_split"),
                         length_grouped_micro_batches=arm != "hicra_trl_split", learning_rate=0.0,
                         fast_generation=False,  # TRL's own sampling in every arm: the same completions
                         max_steps=args.rounds + 1, save_strategy="no", report_to="none", seed=args.seed,
                         disable_tqdm=True, use_cpu=True,
                         **({"torch_threads": args.threads} if args.threads is not None else {}))
    trainer = build_trainer(config, trainer_cls=GRPOTrainer if arm == "trl" else None)
    trainer.create_optimizer_and_scheduler(num_training_steps=args.rounds + 1)
    trainer.current_gradient_accumulation_steps = config.gradient_accumulation_steps
    trainer.model.train()
    return trainer, iter(trainer.get_train_dataloader())


def optimizer_step(trainer, batches, timer=None) -> float:
    """One optimizer step of ``trainer`` (all its micro-batches, then the update); wall seconds."""
    started = time.perf_counter()
    for _ in range(trainer.args.gradient_accumulation_steps):
        trainer.training_step(trainer.model, next(batches), None)
    with timer.timed("optimizer") if timer is not None else nullcontext():
        trainer.optimizer.step()
        trainer.optimizer.zero_grad()
    trainer.state.global_step += 1
    return time.perf_counter() - started


def profile_rows(seconds: dict[str, float], step: float) -> list[tuple[str, float]]:
    """Non-overlapping phases of one step (see :mod:`hicra.trl.profiling`), plus the rest as ``other``."""
    rows = [("generation", seconds.get("generation", 0.0)), ("scoring", seconds.get("scoring", 0.0)),
            ("tagging", seconds.get("tagging", 0.0)), ("records + metrics + JSON", seconds.get("records", 0.0)),
            ("forward, no grad", seconds.get("forward", 0.0) - seconds.get("grad_forward", 0.0)),
            ("forward, loss pass", seconds.get("grad_forward", 0.0)), ("backward", seconds.get("backward", 0.0)),
            ("optimizer", seconds.get("optimizer", 0.0))]
    return rows + [("other (advantages, loss math, ...)", step - sum(v for _, v in rows))]


def print_profile(title: str, profiles: list[dict[str, float]], steps: list[float]) -> None:
    """Median seconds per phase over the timed steps and its share of the median step."""
    step = statistics.median(steps)
    table = [profile_rows(p, s) for p, s in zip(profiles, steps)]
    print(f"\nprofile of one step — {title}: median {step:.2f}s over {len(steps)} steps")
    for k, (name, _) in enumerate(table[0]):
        value = statistics.median(rows[k][1] for rows in table)
        print(f"  {name:<36} {value:8.3f}s {value / step:7.1%}")


def ratio_line(arm: str, times: dict[str, list[float]]) -> str:
    """Per-round paired ratios arm / trl: median, mean and range (safe for any arm subset and round count)."""
    paired = [a / b for a, b in zip(times.get(arm, []), times.get("trl", [])) if b > 0]
    if not paired:
        return f"{arm} / trl: no paired rounds"
    return (f"{arm} / trl step-time ratio: median {statistics.median(paired):.3f}, mean {statistics.mean(paired):.3f}, "
            f"range {min(paired):.3f}–{max(paired):.3f} over {len(paired)} rounds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2", help="policy (default: smollm2)")
    parser.add_argument("--rounds", type=int, default=4, help="timed interleaved steps per arm (after one warm-up)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: hicra train's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arms", default="trl,hicra", help=f"comma-separated, among {', '.join(ARMS)}")
    args = parser.parse_args()
    arms = list(dict.fromkeys(args.arms.split(",")))
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        parser.error(f"unknown arm {unknown[0]!r} (choose among {', '.join(ARMS)})")

    from hicra.trl.profiling import profile_phases

    times: dict[str, list[float]] = {arm: [] for arm in arms}
    profiles: dict[str, list[dict[str, float]]] = {arm: [] for arm in arms}
    generated: dict[str, list[int]] = {arm: [] for arm in arms}
    with tempfile.TemporaryDirectory() as out:
        built = {arm: make_trainer(arm, args, out) for arm in arms}
        timers = {arm: profile_phases(built[arm][0]) for arm in arms}
        for r in range(args.rounds + 1):
            order = arms[r % len(arms):] + arms[: r % len(arms)]  # rotate: every arm runs in every position
            took = {}
            for arm in order:
                timers[arm].reset()
                torch.manual_seed(args.seed + r)
                took[arm] = optimizer_step(*built[arm], timers[arm])
                if r > 0:  # round 0 warms every arm up
                    times[arm].append(took[arm])
                    profiles[arm].append(dict(timers[arm].seconds))
                    generated[arm].append(int(timers[arm].counts["generated_tokens"]))
            print(f"round {r}{' (warm-up)' if r == 0 else ''}: " + ", ".join(f"{a} {took[a]:.2f}s" for a in arms),
                  flush=True)
    for arm in arms:
        if times[arm]:
            print_profile(arm, profiles[arm], times[arm])
    print()
    for arm in arms:  # equal counts in every round: the arms sampled the same completions, so ratios are paired
        print(f"{arm}: completion tokens per round {generated[arm]}")
    same = len({tuple(g) for g in generated.values()}) == 1
    print(f"same completion tokens in every arm and round: {'yes' if same else 'NO (ratios mix work and overhead)'}")
    for arm in arms:
        if times[arm]:
            print(f"{arm}: median step {statistics.median(times[arm]):.2f}s")
    for arm in arms:
        if arm != "trl":
            print(ratio_line(arm, times) + ("  (target <= 1.02)" if arm == "hicra" else ""))


if __name__ == "__main__":
    main()
