"""Sampling speed: transformers' ``generate`` against hicra's decode loop (``fast_generation``), in one run.

1. Decoding step of 16 sequences (2 prompts × 8 samples, the default generation batch) of the policy, plain
   ``generate`` and the fast path, in interleaved rounds: a step is (best of 2 calls with 1 + S new tokens − best of 2
   with 1) / S, with EOS disabled (id -1) so every row runs S steps, sampling as training does (temperature 0.7).
2. The compute floor of that step from a dense fp32 matmul peak measured in the same run (``train_speed.matmul_peak``):
   FLOPs of one decoding step = 2 × 16 × (N_body + N_head) (every weight multiplies each of the 16 new tokens once;
   N_body = parameters outside the embedding and LM head, N_head = LM-head parameters; attention over the cache is
   left out, < 1% here), floor = FLOPs / peak, and the fraction of it each path reaches (floor / step time).
   Arms: ``plain`` (``generate``), ``fast`` (:func:`hicra.generation.decode`, the default of ``fast_generation``,
   its LM head on a oneDNN-reordered weight), ``fast_unpacked`` (the same loop with ``pack_head=False``).
3. Warm-up: the fast path has no compilation; the extra time of its first call in the process and the one-off cost
   per call of the LM head's reordering are printed; then token selection alone, paired.
4. The whole default ``hicra train`` step with ``fast_generation`` on (``default``) and off (``plain``), built by
   ``train_speed.make_arm`` and timed by ``_arms.optimizer_step`` in rounds of rotating order (round 0 warms
   up): paired ratio plain / default per round.

    python bench/generation.py                       # decode rounds, then 2 timed training rounds per arm
    python bench/generation.py --threads 1 --train-rounds 0
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_speed  # noqa: E402
from _arms import interleaved_rounds, optimizer_step  # noqa: E402

PROMPTS = ("What is 37 + 48 * 2? Put the final answer in \\boxed{}.", "Compute 913 - 77 + 5. Answer in \\boxed{}.")


def decode_seconds(model, tokenizer, steps: int, arm: str) -> float:
    """Wall seconds of one call of ``arm`` (``plain``, ``fast``, ``fast_unpacked``) sampling ``steps`` new tokens for
    16 rows (EOS disabled)."""
    from hicra.generation import decode, plan_for

    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                           add_generation_prompt=True) for p in PROMPTS for _ in range(8)]
    enc = tokenizer(texts, return_tensors="pt", padding=True)
    settings = dict(do_sample=True, temperature=0.7, top_p=1.0, top_k=0, max_new_tokens=steps, eos_token_id=-1,
                    pad_token_id=tokenizer.pad_token_id)
    started = time.perf_counter()
    with torch.no_grad():
        if arm == "plain":
            model.generate(**enc, **settings)
        else:
            decode(model, enc["input_ids"], enc["attention_mask"], plan_for(model, enc["input_ids"], **settings),
                   pack_head=arm == "fast")
    return time.perf_counter() - started


def packing_seconds(model) -> float:
    from hicra.generation import packed_head

    started = time.perf_counter()
    with packed_head(model):
        took = time.perf_counter() - started
    return took


ARMS = ("plain", "fast", "fast_unpacked")


def decode_bench(args: argparse.Namespace) -> None:
    from hicra.models import load_model, load_tokenizer

    torch.set_num_threads(args.threads)
    model, tokenizer = load_model(args.model).eval(), load_tokenizer(args.model)
    counts = train_speed.parameter_counts(model)
    flops = 2 * 16 * (counts["body"] + counts["head"])
    first = decode_seconds(model, tokenizer, 2, "fast")
    steady = decode_seconds(model, tokenizer, 2, "fast")
    decode_seconds(model, tokenizer, 2, "plain")
    times: dict[str, list[float]] = {arm: [] for arm in ARMS}
    peaks = []
    for r in range(args.decode_rounds):
        peaks.append(train_speed.matmul_peak(args.threads, reps=3))  # per round: the load changes between rounds
        for arm in ARMS[r % 3:] + ARMS[:r % 3]:
            one = min(decode_seconds(model, tokenizer, 1, arm) for _ in range(2))  # best of 2: load spikes
            many = min(decode_seconds(model, tokenizer, 1 + args.decode_steps, arm) for _ in range(2))
            times[arm].append((many - one) / args.decode_steps)
        print(f"decode round {r}: peak {peaks[-1] / 1e9:.1f} GFLOP/s, "
              + ", ".join(f"{arm} {times[arm][-1] * 1e3:.1f} ms" for arm in ARMS) + " per step", flush=True)
    peak = statistics.median(peaks)
    print(f"\nthreads {args.threads}; matmul peak median {peak / 1e9:.1f} GFLOP/s (fp32 2048³, best of 3 per round)")
    print(f"decoding step FLOPs = 2 × 16 × (N_body {counts['body'] / 1e6:.1f}M + N_head {counts['head'] / 1e6:.1f}M) "
          f"= {flops / 1e9:.2f} GFLOP; compute floor {flops / peak * 1e3:.1f} ms at the median peak")
    for arm, values in times.items():
        fractions = [flops / p / t for p, t in zip(peaks, values)]
        print(f"{arm:>13}: decoding step median {statistics.median(values) * 1e3:.1f} ms; fraction of the same "
              f"round's compute floor: median {statistics.median(fractions):.1%}, range {min(fractions):.1%}–"
              f"{max(fractions):.1%}")
    for arm in ARMS[1:]:
        paired = [p / f for p, f in zip(times["plain"], times[arm])]
        print(f"decoding step plain / {arm}: median {statistics.median(paired):.2f}, range {min(paired):.2f}–"
              f"{max(paired):.2f} over {len(paired)} paired rounds")
    print(f"warm-up: no compilation; first call of the process {max(0.0, first - steady) * 1e3:.0f} ms slower than "
          f"the next; the LM head's weight is reordered once per generate call: {packing_seconds(model) * 1e3:.0f} ms")
    selection_bench(model)


def selection_bench(model, rounds: int = 30) -> None:
    """Token selection alone for 16 rows of a 49152-token vocabulary: ``generate``'s processors + softmax +
    ``torch.multinomial`` against :class:`hicra.generation.Sampler`, interleaved, at the training and eval defaults."""
    from transformers import GenerationConfig

    from hicra.generation import Sampler

    logits = torch.randn(16, model.config.vocab_size) * 3
    for temperature, top_p in ((0.7, 1.0), (0.6, 0.95)):
        config = model._prepare_generation_config(GenerationConfig(do_sample=True, temperature=temperature,
                                                                   top_p=top_p, top_k=0))[0]
        processors = model._get_logits_processor(generation_config=config, input_ids_seq_length=1, device="cpu",
                                                 model_kwargs={})
        sampler = Sampler(temperature=temperature, top_p=top_p)
        arms = {"generate": lambda: torch.multinomial(processors(None, logits.clone()).softmax(-1), 1),
                "hicra": lambda: sampler(logits)}
        took: dict[str, list[float]] = {arm: [] for arm in arms}
        for r in range(rounds):
            for arm in (("generate", "hicra") if r % 2 else ("hicra", "generate")):
                started = time.perf_counter()
                arms[arm]()
                took[arm].append(time.perf_counter() - started)
        paired = [g / h for g, h in zip(took["generate"], took["hicra"])]
        print(f"token selection, temperature {temperature}, top-p {top_p}: generate {min(took['generate']) * 1e3:.1f}"
              f" ms, hicra {min(took['hicra']) * 1e3:.1f} ms (best of {rounds}); paired ratio median "
              f"{statistics.median(paired):.1f}")


def train_bench(args: argparse.Namespace) -> None:
    threads = {"torch_threads": args.threads}  # hicra train's default unless --threads says otherwise
    train_speed.ARMS.update({"default": {"fast_generation": True, **threads},
                             "plain": {"fast_generation": False, **threads}})
    arms = ["default", "plain"]
    times: dict[str, list[float]] = {arm: [] for arm in arms}
    sampling: dict[str, list[tuple[float, int]]] = {arm: [] for arm in arms}  # generation seconds, new tokens
    with tempfile.TemporaryDirectory() as out:
        args.rounds = args.train_rounds
        built = {arm: train_speed.make_arm(arm, args, out) for arm in arms}

        def step(arm: str, timed: bool) -> float:
            torch.set_num_threads(built[arm]["threads"])
            timer = built[arm]["timer"]
            timer.reset()
            took = optimizer_step(built[arm]["trainer"], built[arm]["batches"], timer)
            if timed:
                times[arm].append(took)
                sampling[arm].append((timer.seconds["generation"], int(timer.counts["generated_tokens"])))
            return took

        interleaved_rounds(arms, args.train_rounds, args.seed, step, digits=1, label="train round")
    for arm in arms:  # the arms draw different samples, so their steps generate different numbers of tokens
        print(f"{arm}: generation phase per round " + ", ".join(f"{g:.1f}s for {n} tokens ({g / max(n, 1) * 1e3:.0f} "
                                                               f"ms/token)" for g, n in sampling[arm]))
    if times["default"]:
        paired = [p / d for p, d in zip(times["plain"], times["default"])]
        print(f"training step plain / default (fast_generation): median {statistics.median(paired):.2f}, range "
              f"{min(paired):.2f}–{max(paired):.2f} over {len(paired)} paired rounds; median steps: default "
              f"{statistics.median(times['default']):.1f}s, plain {statistics.median(times['plain']):.1f}s")


def quiet_eos_warning() -> None:
    """Silence transformers' warning about the EOS id -1 the decoding bench uses so that every row runs every step."""
    from transformers.utils import logging

    logging.set_verbosity_error()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2", help="policy (default: smollm2)")
    parser.add_argument("--threads", type=int, default=train_speed.threads_of({}),
                        help="torch threads of both benches (default: hicra train's)")
    parser.add_argument("--decode-rounds", type=int, default=4, help="paired decoding rounds (0: skip)")
    parser.add_argument("--decode-steps", type=int, default=16, help="decoding steps timed per round")
    parser.add_argument("--train-rounds", type=int, default=2, help="timed training steps per arm (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    quiet_eos_warning()
    args = parser.parse_args()
    if args.decode_rounds > 0:
        decode_bench(args)
    if args.train_rounds > 0:
        train_bench(args)


if __name__ == "__main__":
    main()
