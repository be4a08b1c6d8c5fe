"""Step time of the strategy testbed (``hicra train --preset testbed``) against stock ``trl.GRPOTrainer``, side by side.

Every arm is built by :func:`hicra.trl.run.build_trainer` from the testbed preset (warm-started tiny Llama, 8 prompts
× 8 samples, completions of at most 64 tokens, testbed reward); ``trl`` is the stock, unsubclassed
``trl.GRPOTrainer`` on the same model, problems, reward and batch. Arms: ``hicra`` (HICRATrainer: tagging, rollout log,
metrics, testbed step metrics), ``grpo`` (the same trainer without the planning bonus), ``hicra_oracle`` (planning mask
from the testbed's ground-truth spans). The learning rate is 0 and every arm gets the same RNG seed per round, so all
arms sample the same completions (printed per round to show it). A step is a full optimizer step: generation, reward,
advantages, tagging, records, loss forward, backward, optimizer.

Rounds interleave the arms with a rotating order (round 0 warms up and is not counted); each round gives a paired
ratio arm / trl (targets: testbed step ≤ 2 s, hicra / trl ≤ 1.2). The process CPU time of a step is printed too: on
a machine other jobs share, wall time also counts the time the step waited for a core.

    python bench/testbed_step.py                       # needs `hicra testbed warmstart` (or --model DIR)
    python bench/testbed_step.py --rounds 8 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from _arms import arm_parser, interleaved_rounds, optimizer_step, parse_arms, ratio_line, ready

ARMS = ("trl", "hicra", "grpo", "hicra_oracle")


def make_trainer(arm: str, args: argparse.Namespace, out: str):
    from trl import GRPOTrainer

    from hicra.trl.config import HICRAConfig
    from hicra.trl.run import PRESETS, build_trainer

    values = {**PRESETS["testbed"], "model": args.model, "output_dir": f"{out}/{arm}", "learning_rate": 0.0,
              "method": "grpo" if arm == "grpo" else "hicra", "max_steps": args.rounds + 1, "save_strategy": "no",
              "seed": args.seed, "disable_tqdm": True, "use_cpu": True,
              "planning_source": "oracle" if arm == "hicra_oracle" else "lexicon",
              "fast_generation": False}  # TRL's own sampling in every arm: the same completions
    if args.threads is not None:
        values["torch_threads"] = args.threads
    trainer = build_trainer(HICRAConfig(**values), trainer_cls=GRPOTrainer if arm == "trl" else None)
    return ready(trainer, args.rounds + 1)


def main() -> None:
    parser = arm_parser(__doc__, ARMS, "trl,hicra,grpo", "testbed",
                        "warm start (default: testbed = hicra testbed warmstart)", rounds=6)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args, arms = parse_arms(parser, ARMS, required="trl")

    times: dict[str, list[float]] = {arm: [] for arm in arms}
    lengths: dict[str, list[float]] = {arm: [] for arm in arms}
    cpu: dict[str, list[float]] = {arm: [] for arm in arms}
    with tempfile.TemporaryDirectory() as out:
        built = {arm: make_trainer(arm, args, out) for arm in arms}

        def step(arm: str, timed: bool) -> float:
            started = time.process_time()
            took = optimizer_step(*built[arm])
            if timed:
                times[arm].append(took)
                cpu[arm].append(time.process_time() - started)
                lengths[arm].append(built[arm][0]._metrics["train"]["completions/mean_length"][-1])
            return took

        interleaved_rounds(arms, args.rounds, args.seed, step)
    print()
    for arm in arms:
        print(f"{arm}: mean completion length per round {[round(x, 1) for x in lengths[arm]]}")
    same = len({tuple(v) for v in lengths.values()}) == 1
    print(f"same completions in every arm and round: {'yes' if same else 'NO (ratios mix work and overhead)'}")
    for arm in arms:
        print(f"{arm}: median step {statistics.median(times[arm]):.2f}s wall (target <= 2 s), "
              f"{statistics.median(cpu[arm]):.2f}s CPU of this process (all its threads)")
    for arm in arms:
        if arm != "trl":
            print(ratio_line(f"{arm} / trl", times[arm], times["trl"]) + "  (target <= 1.2)")


if __name__ == "__main__":
    main()
