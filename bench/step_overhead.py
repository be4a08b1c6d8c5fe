"""Step-time overhead of HICRA credit assignment over GRPO in the TRL adapter (arXiv 2509.03646, §3).

Builds one trainer per arm from the same model file, seed and problems, then runs their training steps interleaved
(the arm order rotates every round) and compares step times round by round (median of the per-round ratios).
The learning rate is 0, so the weights — and with the same RNG seed per round, the sampled completions — stay
identical across arms: the arms differ only in the credit assignment, which is exactly what is measured. A step is TRL's full training step: generation, reward,
advantages, tagging, token statistics, loss, backward and the optimizer update.

Arms: ``hicra`` (HICRATrainer, method=hicra), ``grpo`` (HICRATrainer, method=grpo: same logging, no α|Â|), and for
reference ``trl`` (plain ``trl.GRPOTrainer``: no planning masks, no token statistics, no rollout log; ``--arms``).

    python bench/step_overhead.py                      # SmolLM2-135M, 8 rounds (about 6 minutes on 2 CPU cores)
    python bench/step_overhead.py --arms hicra,grpo,trl --rounds 11

Prints the per-arm median step time and the ratio hicra / grpo (target ≤ 1.02). On a shared CPU the round-to-round
noise is a few percent; use more rounds for a tighter number.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch


def make_trainer(arm: str, args: argparse.Namespace, out: str):
    from trl import GRPOTrainer

    from hicra.trl.config import HICRAConfig
    from hicra.trl.run import build_trainer

    config = HICRAConfig(
        output_dir=f"{out}/{arm}", model=args.model, method="grpo" if arm == "grpo" else "hicra",
        dataset=args.dataset, dataset_size=64, gym_options={}, num_generations=args.num_generations,
        per_device_train_batch_size=args.batch, max_completion_length=args.max_completion_length, learning_rate=0.0,
        max_steps=args.rounds, save_strategy="no", report_to="none", torch_threads=args.threads, seed=args.seed,
        log_token_stats=arm != "trl", disable_tqdm=True, use_cpu=True, optim="adamw_torch")
    trainer = build_trainer(config, trainer_cls=GRPOTrainer if arm == "trl" else None)
    trainer.create_optimizer_and_scheduler(num_training_steps=args.rounds)
    trainer.current_gradient_accumulation_steps = 1
    trainer.model.train()
    return trainer, iter(trainer.get_train_dataloader())


def one_step(trainer, batches, seed: int) -> float:
    """One optimizer step of ``trainer`` on its next generation batch; wall seconds."""
    torch.manual_seed(seed)
    batch = next(batches)
    started = time.perf_counter()
    trainer.training_step(trainer.model, batch, None)
    trainer.optimizer.step()
    trainer.optimizer.zero_grad()
    trainer.state.global_step += 1
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2", help="policy (default: smollm2)")
    parser.add_argument("--dataset", default="gym:chain_sum,products", help="training problems")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved steps per arm (first one is warm-up)")
    parser.add_argument("--batch", type=int, default=8, help="completions per step")
    parser.add_argument("--num-generations", type=int, default=4, help="completions per prompt")
    parser.add_argument("--max-completion-length", type=int, default=48, help="tokens per completion")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arms", default="hicra,grpo", help="comma-separated arms among hicra, grpo, trl "
                                                                "(hicra and grpo needed)")
    args = parser.parse_args()

    arms = args.arms.split(",")
    with tempfile.TemporaryDirectory() as out:
        built = {arm: make_trainer(arm, args, out) for arm in arms}
        times: dict[str, list[float]] = {arm: [] for arm in arms}
        for r in range(args.rounds):
            order = arms[r % len(arms):] + arms[: r % len(arms)]  # rotate: every arm runs in every position
            for arm in order:
                trainer, batches = built[arm]
                times[arm].append(one_step(trainer, batches, args.seed + r))
            print(f"round {r}: " + ", ".join(f"{a} {times[a][-1]:.2f}s" for a in arms), flush=True)
    medians = {arm: statistics.median(t[1:] if len(t) > 1 else t) for arm, t in times.items()}
    paired = [h / g for h, g in zip(times["hicra"][1:], times["grpo"][1:])] or [times["hicra"][0] / times["grpo"][0]]
    print("\nmedian step time (s): " + ", ".join(f"{a} {m:.3f}" for a, m in medians.items()))
    print(f"hicra / grpo step-time ratio: {statistics.median(paired):.3f} (median of per-round ratios; ratio of "
          f"medians {medians['hicra'] / medians['grpo']:.3f})  (target <= 1.02)")
    if "trl" in medians:
        print(f"hicra / plain trl.GRPOTrainer: {medians['hicra'] / medians['trl']:.3f}  (includes the token-statistics "
              "forward and logging that grpo runs in hicra also do)")


if __name__ == "__main__":
    main()
