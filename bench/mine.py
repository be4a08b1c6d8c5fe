"""Mine Strategic Grams from N synthetic rollouts of ~300 words end to end (no LLM stage) and print the wall time.

Each rollout is a JSONL record like the trainer's (step, prompt_id, completion, reward, correct). Its completion
mixes reasoning phrases (a fixed list drawn with Zipf-like weights, at most a few per solution), templated
procedural sentences with inline LaTeX and numbers, and filler words from a 3,000-word pseudo-vocabulary — so the
n-gram tables are large and the signature/clustering stages have real work. Timed: reading the JSONL, stages a–d
including loading the MiniLM embedder, and writing the lexicon, for the default group-first order
(``--signature-order concept``) and, as the same-run baseline, the per-n-gram order. Target: 10,000 solutions in at
most 60 s on 2 CPU cores.

    .venv/bin/python bench/mine.py [--solutions 10000] [--words 300] [--embedder minilm]
"""

from __future__ import annotations

import argparse
import json
import random
import string
import tempfile
import time
from pathlib import Path

from hicra.mining.config import MineConfig
from hicra.mining.pipeline import mine, write_outputs

REASONING = ["let's try a different approach", "we can use the fact that", "but wait", "first we need to find",
             "on the other hand", "this means that", "let me verify this result", "we want to find",
             "to solve this problem", "the key insight is that", "let's break this down", "we can conclude that",
             "now we need to determine", "this suggests that", "going back to the", "a simpler approach is to",
             "let's check the constraints again", "from this it follows that", "we are looking for",
             "so the question becomes", "consider the case where", "we can think of this as", "it helps to note",
             "that can't be right", "let's consider another case", "upon closer inspection"]
NOUNS = ["triangle", "sum", "product", "equation", "roots", "polynomial", "area", "perimeter", "sequence",
         "probability", "remainder", "digits", "angle", "circle", "radius", "function", "integer", "fraction"]
PROCEDURAL = ["the {n} of the {m} is ${a} + {b} = {c}$", "multiplying both sides by ${a}$ gives ${c}x = {b}$",
              "substituting ${a}$ into the {n} we get ${c}$", "so the {n} equals ${a} \\cdot {b}$",
              "the {n} has {a} {m} and {b} more", "dividing the {n} by {a} leaves {b}"]


def make_vocab(size: int, rng: random.Random) -> list[str]:
    return ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(size)]


def make_solution(words: int, vocab: list[str], rng: random.Random) -> str:
    weights = [1.0 / (i + 1) for i in range(len(REASONING))]
    parts: list[str] = []
    count = 0
    while count < words:
        r = rng.random()
        if r < 0.12:
            sentence = rng.choices(REASONING, weights)[0] + " " + " ".join(rng.choices(vocab, k=4))
        elif r < 0.6:
            sentence = rng.choice(PROCEDURAL).format(n=rng.choice(NOUNS), m=rng.choice(NOUNS), a=rng.randint(2, 99),
                                                     b=rng.randint(2, 99), c=rng.randint(2, 999))
        else:
            sentence = " ".join(rng.choices(vocab, k=rng.randint(6, 14)))
        parts.append(sentence[0].upper() + sentence[1:] + ".")
        count += sentence.count(" ") + 1
    return " ".join(parts) + f" The answer is $\\boxed{{{rng.randint(1, 999)}}}$."


def write_rollouts(path: Path, n: int, words: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    vocab = make_vocab(3000, rng)
    total = 0
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            text = make_solution(words, vocab, rng)
            total += text.count(" ") + 1
            f.write(json.dumps({"step": i % 50, "prompt_id": f"p{i // 8}", "completion": text, "reward": 1.0,
                                "correct": True}) + "\n")
    return total


def run(rollouts: Path, out: Path, embedder: str, order: str) -> tuple[float, object, str]:
    cfg = MineConfig(rollouts=str(rollouts), output=str(out), embedder=embedder, signature_order=order,
                     progress=False)
    start = time.perf_counter()
    result = mine(cfg)
    write_outputs(result, cfg)
    wall = time.perf_counter() - start
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    counts = {what: n for _, what, n in result.counts}
    return wall, result, (f"{counts['candidates (capped)']} candidates, {counts['clusters']} clusters → "
                          f"{len(result.lexicon)} grams ({stages})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--solutions", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--embedder", default="minilm")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rollouts = Path(tmp) / "rollouts.jsonl"
        n_words = write_rollouts(rollouts, args.solutions, args.words)
        base, _, base_info = run(rollouts, Path(tmp) / "ngram.json", args.embedder, "ngram")
        wall, result, info = run(rollouts, Path(tmp) / "sg.json", args.embedder, "concept")
    n = len(result.corpus.texts)
    print(f"baseline (--signature-order ngram): {base:.1f} s; {base_info}")
    print(f"mined {n} solutions ({n_words / n:.0f} words each) in {wall:.1f} s ({n / wall:.0f} solutions/s, "
          f"{n_words / wall / 1e3:.0f}k words/s); {info}; ratio to baseline {wall / base:.2f}; "
          f"target ≤ 60 s: {'met' if wall <= 60 else 'MISSED'}")
    print("top grams:", ", ".join(result.lexicon.grams[:12]))


if __name__ == "__main__":
    main()
