"""Grade N (prediction, reference) pairs with ``hicra.eval.grade_many`` and print the wall time.

The pairs are built from the references of every shipped benchmark: a short completion ending in ``\\boxed{X}``
where X is the reference itself, an equivalent rewrite (``\\dfrac``, decimals, ``x = ...``, spacing, a unit) or a
wrong answer, in roughly the proportions an evaluation run sees. ``--adversarial K`` adds K answers such as
``9^{9^{9^{9}}}`` that must time out. Target: 10,000 pairs in at most 20 s on 2 CPU cores.

    .venv/bin/python bench/grade.py [--pairs 10000] [--workers 2] [--timeout 5] [--adversarial 0]
"""

from __future__ import annotations

import argparse
import random
import re
import time

from hicra.eval.benchmarks import BENCHMARKS, load_problems
from hicra.eval.grading import grade_many
from hicra.eval.pool import shutdown

ADVERSARIAL = [r"9^{9^{9^{9}}}", r"2^{2^{2^{2^{2^{2}}}}}", "(" * 300 + "1" + ")" * 300, r"10^{10^{10^{10}}}"]


def equivalent(reference: str, rng: random.Random) -> str:
    """A rewrite of ``reference`` that a correct grader accepts."""
    if re.fullmatch(r"-?\d+", reference):
        return rng.choice([f"{reference}.0", f"x = {reference}", f"{reference} \\text{{ units}}", f" {reference} "])
    if re.fullmatch(r"\\frac\{\d+\}\{\d+\}", reference):
        return reference.replace("\\frac", "\\dfrac")
    return rng.choice([reference.replace(" ", ""), f"\\left({reference}\\right)" if "," not in reference
                       else reference, f"{reference}."])


def wrong(reference: str, others: list[str], rng: random.Random) -> str:
    """An answer that a correct grader rejects (another number, or another problem's reference)."""
    if re.fullmatch(r"-?\d+", reference):
        return str(int(reference) + rng.choice([-2, -1, 1, 7]))
    other = rng.choice(others)
    return other if other != reference else f"{reference}+1"


def make_pairs(n: int, adversarial: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    refs = [p.reference for name in BENCHMARKS for p in load_problems(name)]
    pairs = []
    for i in range(n - adversarial):
        ref = refs[i % len(refs)]
        kind = rng.random()
        answer = ref if kind < 0.3 else equivalent(ref, rng) if kind < 0.55 else wrong(ref, refs, rng)
        pairs.append((f"We compute step by step. Therefore the result is \\boxed{{{answer}}}.", ref))
    pairs += [(f"\\boxed{{{ADVERSARIAL[k % len(ADVERSARIAL)]}}}", "5") for k in range(adversarial)]
    rng.shuffle(pairs)
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--adversarial", type=int, default=0)
    args = parser.parse_args()
    pairs = make_pairs(args.pairs, args.adversarial)
    start = time.perf_counter()
    verdicts = grade_many(pairs, timeout=args.timeout, workers=args.workers)
    wall = time.perf_counter() - start
    shutdown()
    print(f"graded {len(pairs)} pairs in {wall:.2f} s ({len(pairs) / wall:.0f} pairs/s, {args.workers} workers, "
          f"timeout {args.timeout:g} s); {sum(verdicts)} correct ({sum(verdicts) / len(pairs):.1%})")


if __name__ == "__main__":
    main()
