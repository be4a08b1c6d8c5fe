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

from _arms import arm_parser, interleaved_rounds, optimizer_step, parse_arms, print_profile, ratio_line, ready

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
    return ready(build_trainer(config, trainer_cls=GRPOTrainer if arm == "trl" else None), args.rounds + 1)


def main() -> None:
    parser = arm_parser(__doc__, ARMS, "trl,hicra", "smollm2", "policy (default: smollm2)", rounds=4)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: hicra train's)")
    args, arms = parse_arms(parser, ARMS)

    from hicra.trl.profiling import profile_phases

    times: dict[str, list[float]] = {arm: [] for arm in arms}
    profiles: dict[str, list[dict[str, float]]] = {arm: [] for arm in arms}
    generated: dict[str, list[int]] = {arm: [] for arm in arms}
    with tempfile.TemporaryDirectory() as out:
        built = {arm: make_trainer(arm, args, out) for arm in arms}
        timers = {arm: profile_phases(built[arm][0]) for arm in arms}

        def step(arm: str, timed: bool) -> float:
            timers[arm].reset()
            took = optimizer_step(*built[arm], timers[arm])
            if timed:
                times[arm].append(took)
                profiles[arm].append(dict(timers[arm].seconds))
                generated[arm].append(int(timers[arm].counts["generated_tokens"]))
            return took

        interleaved_rounds(arms, args.rounds, args.seed, step)
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
            print(ratio_line(f"{arm} / trl", times[arm], times.get("trl", []))
                  + ("  (target <= 1.02)" if arm == "hicra" else ""))


if __name__ == "__main__":
    main()
