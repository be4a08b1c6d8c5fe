"""What the step-time benches share (``step_overhead``, ``train_speed``, ``testbed_step``, ``generation``): their
common options, a trainer made ready for hand-driven optimizer steps, one such step, rounds that interleave the arms,
the paired ratio line and the phase profile of a step.

Not a bench itself: the scripts import it from their own folder (``python bench/NAME.py`` puts it on the path).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext

import torch


def arm_parser(doc: str, choices: Sequence[str], arms: str, model: str, model_help: str,
               rounds: int) -> argparse.ArgumentParser:
    """A parser with the options of every step bench: ``--model``, ``--rounds``, ``--seed`` and ``--arms`` (a
    comma-separated subset of ``choices``, default ``arms``); a bench adds its own after them."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=model, help=model_help)
    parser.add_argument("--rounds", type=int, default=rounds,
                        help="timed interleaved steps per arm (after one warm-up)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arms", default=arms, help=f"comma-separated, among {', '.join(choices)}")
    return parser


def parse_arms(parser: argparse.ArgumentParser, choices: Sequence[str],
               required: str | None = None) -> tuple[argparse.Namespace, list[str]]:
    """The parsed options and the arms of ``--arms`` (each once); an unknown arm, or no ``required`` arm, is a
    usage error."""
    args = parser.parse_args()
    arms = list(dict.fromkeys(args.arms.split(",")))
    unknown = sorted(set(arms) - set(choices))
    if unknown:
        parser.error(f"unknown arm {unknown[0]!r} (choose among {', '.join(choices)})")
    if required is not None and required not in arms:
        parser.error(f"--arms must include {required} (the baseline of the ratios)")
    return args, arms


def ready(trainer, steps: int):
    """``trainer`` (built by :func:`hicra.trl.run.build_trainer`) set up for ``steps`` optimizer steps driven by
    :func:`optimizer_step`, and the iterator of its training batches."""
    trainer.create_optimizer_and_scheduler(num_training_steps=steps)
    trainer.current_gradient_accumulation_steps = trainer.args.gradient_accumulation_steps
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


def interleaved_rounds(arms: Sequence[str], rounds: int, seed: int, step: Callable[[str, bool], float],
                       digits: int = 2, label: str = "round") -> None:
    """Round 0 warms every arm up, then ``rounds`` timed rounds. A round runs each arm once, in an order rotated by
    one arm per round (every arm runs in every position), each right after ``torch.manual_seed(seed + round)`` so
    that the arms sample alike. ``step(arm, timed)`` runs one step and returns its wall seconds (``timed`` is false
    in round 0); each round prints one line of them with ``digits`` decimals."""
    arms = list(arms)
    for r in range(rounds + 1):
        took = {}
        for arm in arms[r % len(arms):] + arms[: r % len(arms)]:
            torch.manual_seed(seed + r)
            took[arm] = step(arm, r > 0)
        print(f"{label} {r}{' (warm-up)' if r == 0 else ''}: "
              + ", ".join(f"{a} {took[a]:.{digits}f}s" for a in arms), flush=True)


def ratio_line(name: str, steps: Sequence[float], baseline: Sequence[float], digits: int = 3) -> str:
    """The per-round paired step-time ratios ``steps`` / ``baseline`` of bench arm(s) ``name`` (``"hicra / trl"``):
    median, mean and range (any round count, also none)."""
    paired = [a / b for a, b in zip(steps, baseline) if b > 0]
    if not paired:
        return f"{name}: no paired rounds"
    return (f"{name} step-time ratio: median {statistics.median(paired):.{digits}f}, mean "
            f"{statistics.mean(paired):.{digits}f}, range {min(paired):.{digits}f}–{max(paired):.{digits}f} over "
            f"{len(paired)} rounds")


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
