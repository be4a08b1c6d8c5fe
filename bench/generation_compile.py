"""Would a static KV cache and ``torch.compile`` of the decoding step beat hicra's eager decode loop? Measured here.

Three arms decode the same 16 left-padded prompts of the policy greedily (so every arm does the same work), and a
decoding step is the median gap between consecutive new tokens (the prefill left out):

- ``eager``: :func:`hicra.generation.decode`, the ``fast_generation`` path (the model's own dynamic cache);
- ``static``: the model's forward over a transformers ``StaticCache`` sized to a multiple of 64 positions (no
  concatenation; attention runs over the whole cache, masked);
- ``compiled``: the ``static`` step through ``torch.compile`` (inductor, static shapes: one graph per cache size).

The first compiled call is timed separately: the compile cost a run would pay once per process and cache size
(inductor's on-disk cache makes a second process cheaper). Paired ratios are printed per round.

    python bench/generation_compile.py                 # 3 rounds of 24 decoding steps on hicra train's threads
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_speed  # noqa: E402
from generation import PROMPTS, quiet_eos_warning  # noqa: E402


def step_gaps(stamps: list[float]) -> float:
    """Median gap between consecutive time stamps."""
    return statistics.median(b - a for a, b in zip(stamps, stamps[1:]))


class StaticDecoder:
    """Greedy decoding over a ``StaticCache``; ``step`` is the (optionally compiled) one-token forward."""

    def __init__(self, model, enc, steps: int, compiled: bool):
        self.model, self.ids, self.mask = model, enc["input_ids"], enc["attention_mask"]
        self.length = -(-(self.ids.shape[1] + steps) // 64) * 64
        self.step = torch.compile(self.forward, dynamic=False) if compiled else self.forward

    def forward(self, tokens, mask, positions, cache_position, cache):
        return self.model(input_ids=tokens, attention_mask=mask, position_ids=positions, cache_position=cache_position,
                          past_key_values=cache, use_cache=True, logits_to_keep=1).logits[:, -1]

    @torch.no_grad()
    def stamps(self, steps: int) -> list[float]:
        from transformers import StaticCache

        batch, prompt = self.ids.shape
        cache = StaticCache(config=self.model.config, max_cache_len=self.length)
        mask = torch.cat([self.mask, self.mask.new_ones(batch, self.length - prompt)], dim=1)
        positions = (self.mask.cumsum(-1) - 1).masked_fill(self.mask == 0, 0)
        token = self.forward(self.ids, mask, positions, torch.arange(prompt), cache).argmax(-1, keepdim=True)
        last, stamps = positions[:, -1:], [time.perf_counter()]
        for s in range(steps):
            last = last + 1
            token = self.step(token, mask, last, torch.tensor([prompt + s]), cache).argmax(-1, keepdim=True)
            stamps.append(time.perf_counter())
        return stamps


def eager_stamps(model, enc, steps: int) -> list[float]:
    from hicra.generation import decode, plan_for

    plan = plan_for(model, enc["input_ids"], attention_mask=enc["attention_mask"], do_sample=False,
                    max_new_tokens=steps, eos_token_id=-1, pad_token_id=0)
    stamps: list[float] = []
    decode(model, enc["input_ids"], enc["attention_mask"], plan, on_step=lambda: stamps.append(time.perf_counter()))
    return stamps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2", help="policy (default: smollm2)")
    parser.add_argument("--threads", type=int, default=train_speed.threads_of({}), help="torch threads")
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds")
    parser.add_argument("--steps", type=int, default=24, help="decoding steps per round and arm")
    args = parser.parse_args()
    quiet_eos_warning()
    torch.set_num_threads(args.threads)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from hicra.models import resolve_model_path

    path = resolve_model_path(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                           add_generation_prompt=True) for p in PROMPTS for _ in range(8)]
    enc = tokenizer(texts, return_tensors="pt", padding=True)
    static, compiled = (StaticDecoder(model, enc, args.steps, c) for c in (False, True))
    first = compiled.stamps(2)
    print(f"threads {args.threads}; compile + first compiled step: {first[1] - first[0]:.1f} s "
          f"(next step {1000 * (first[2] - first[1]):.0f} ms)")
    times: dict[str, list[float]] = {"eager": [], "static": [], "compiled": []}
    for r in range(args.rounds):
        arms = {"eager": lambda: eager_stamps(model, enc, args.steps), "static": lambda: static.stamps(args.steps),
                "compiled": lambda: compiled.stamps(args.steps)}
        for name in list(arms)[r % 3:] + list(arms)[:r % 3]:  # rotating order
            times[name].append(step_gaps(arms[name]()))
        print(f"round {r}: " + ", ".join(f"{k} {1000 * v[-1]:.1f} ms" for k, v in times.items()) + " per step")
    for name in ("static", "compiled"):
        ratios = [e / t for e, t in zip(times["eager"], times[name])]
        print(f"decoding step eager / {name}: median {statistics.median(ratios):.2f}, range "
              f"{min(ratios):.2f}–{max(ratios):.2f} over {args.rounds} paired rounds")


if __name__ == "__main__":
    main()
