"""Planning-token tagging throughput (paper §2.1): hicra's ``PlanningTagger.tag_ids`` against a naive tagger.

Corpus: MATH500 solutions and GSM8K answers with Strategic-Gram phrases opening a share of their sentences (as in
model reasoning: "Wait, ...", "Let's check ..."), tokenised once with SmolLM2's byte-level BPE tokenizer and repeated
until it holds ``--tokens`` tokens. hicra tags the exact ids in batches (the trainer's path). The naive tagger is the
approach of existing implementations: for every token position, join the strings of the next W tokens and try each
gram's regex there; it runs on a subset and its rate is extrapolated. Both rates, and their ratio, are measured in
this run. Targets: ≥ 1 M tokens/s for hicra on one core and ≥ 20× the naive tagger.

    .venv/bin/python bench/tagger.py [--tokens 1000000] [--batch 64] [--naive-tokens 20000] [--sg-share 0.3]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "TOKENIZERS_PARALLELISM"):
    os.environ.setdefault(_var, "1" if _var != "TOKENIZERS_PARALLELISM" else "false")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from hicra.lexicon import load_lexicon  # noqa: E402
from hicra.models import load_tokenizer  # noqa: E402
from hicra.tagging import PlanningTagger  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def reasoning_texts(grams: tuple[str, ...], share: float, seed: int = 0) -> list[str]:
    """MATH500 solutions and GSM8K answers with a gram opening ``share`` of their sentences."""
    rng = random.Random(seed)
    sources = [("math500", "solution"), ("gsm8k", "answer")]
    texts = []
    for name, field in sources:
        with (SHARED / name / "test.jsonl").open(encoding="utf-8") as f:
            for line in f:
                sentences = SENTENCE_END.split(json.loads(line)[field])
                out = []
                for s in sentences:
                    if rng.random() < share:
                        gram = rng.choice(grams)
                        s = f"{gram[:1].upper()}{gram[1:]}{rng.choice([' ', ', ', ' — '])}{s[:1].lower()}{s[1:]}"
                    out.append(s)
                texts.append(" ".join(out))
    return texts


class NaiveTagger:
    """Per-token regex windows: a token starts an occurrence if a gram's regex matches the next W tokens' text."""

    def __init__(self, grams: tuple[str, ...], tokenizer, window: int):
        self.window = window
        self.patterns = [re.compile(r"\s*" + r"\s+".join(map(re.escape, g.split(" "))) + (r"\b" if g[-1].isalnum()
                                    else ""), re.IGNORECASE) for g in grams]
        self.tokenizer = tokenizer
        self.strings: dict[int, str] = {}

    def prepare(self, sequences: list[list[int]]) -> None:
        """Decode each distinct id once (outside the timed part, which favours the naive tagger)."""
        for i in {i for s in sequences for i in s} - self.strings.keys():
            self.strings[i] = self.tokenizer.decode([i])

    def tag(self, ids: list[int]) -> np.ndarray:
        strings = [self.strings[i] for i in ids]
        planning = np.zeros(len(ids), dtype=bool)
        for i in range(len(ids)):
            if i and strings[i - 1][-1:].isalnum() and strings[i][:1].isalnum():
                continue  # not at a word start
            window = "".join(strings[i:i + self.window])
            for pattern in self.patterns:
                m = pattern.match(window)
                if m:
                    end, j = m.end(), i
                    while end > 0 and j < len(ids):
                        planning[j] = True
                        end -= len(strings[j])
                        j += 1
        return planning


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=1_000_000, help="tokens hicra tags (default: 1,000,000)")
    parser.add_argument("--batch", type=int, default=64, help="sequences per tag_ids call (default: 64)")
    parser.add_argument("--naive-tokens", type=int, default=20_000, help="tokens the naive tagger tags")
    parser.add_argument("--sg-share", type=float, default=0.3, help="share of sentences opened by a gram")
    args = parser.parse_args()

    lexicon = load_lexicon("paper")
    tokenizer = load_tokenizer("smollm2")
    texts = reasoning_texts(lexicon.grams, args.sg_share)
    base = tokenizer(texts, add_special_tokens=False)["input_ids"]
    n_base = sum(map(len, base))
    sequences = base * -(-args.tokens // n_base)
    n_tokens = sum(map(len, sequences))
    print(f"corpus: {len(texts)} texts (MATH500 solutions, GSM8K answers; {args.sg_share:.0%} of sentences opened by "
          f"a gram), {n_base:,} tokens, repeated to {len(sequences):,} sequences / {n_tokens:,} tokens")

    tagger = PlanningTagger(lexicon, tokenizer)
    t0 = time.perf_counter()
    tagger.pieces  # one-off per tokenizer: the surface bytes of every id
    print(f"token pieces table: {len(tagger.pieces.pieces):,} ids in {time.perf_counter() - t0:.2f} s (once)")
    tagger.tag_ids(sequences[:args.batch])  # warm-up

    batches = [sequences[i:i + args.batch] for i in range(0, len(sequences), args.batch)]
    t0 = time.perf_counter()
    n_planning = sum(int(t.planning.sum()) for b in batches for t in tagger.tag_ids(b))
    hicra_rate = n_tokens / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for b in batches:
        tagger.planning_masks(b)
    masks_rate = n_tokens / (time.perf_counter() - t0)
    print(f"hicra tag_ids:        {hicra_rate:12,.0f} tokens/s (batches of {args.batch}; "
          f"{n_planning / n_tokens:.1%} planning tokens)")
    print(f"hicra planning_masks: {masks_rate:12,.0f} tokens/s")

    window = max(len(tokenizer(" " + g, add_special_tokens=False)["input_ids"]) for g in lexicon.grams) + 1
    naive = NaiveTagger(lexicon.grams, tokenizer, window)
    subset, n_sub = [], 0
    for s in base:
        if n_sub >= args.naive_tokens:
            break
        subset.append(s)
        n_sub += len(s)
    naive.prepare(subset)
    t0 = time.perf_counter()
    naive_masks = [naive.tag(s) for s in subset]
    naive_rate = n_sub / (time.perf_counter() - t0)
    ours = np.concatenate(tagger.planning_masks(subset))
    agree = float((np.concatenate(naive_masks) == ours).mean())
    print(f"naive regex windows:  {naive_rate:12,.0f} tokens/s ({n_sub:,} tokens, window {window} tokens, "
          f"{len(lexicon.grams)} grams; labels agree with hicra on {agree:.2%} of tokens)")

    ratio = hicra_rate / naive_rate
    print(f"speed-up: {ratio:.0f}x the naive tagger (target >= 20x: {'met' if ratio >= 20 else 'NOT met'}); "
          f"{hicra_rate / 1e6:.2f} M tokens/s (target >= 1 M: {'met' if hicra_rate >= 1e6 else 'NOT met'})")


if __name__ == "__main__":
    main()
