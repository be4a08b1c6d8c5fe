"""Cost of the checking reader (:func:`hicra.io.iter_jsonl`: duplicate keys, finite numbers, bounded integers and
nesting) against plain ``json.loads`` of every line, on a rollout file as the trainer writes it (1,000-token
completions with ids, log-probabilities and entropies). Rounds alternate the two readers; the ratio is printed per
round and as the median.

    .venv/bin/python bench/io_reader.py [--records 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path


def build(path: Path, records: int) -> None:
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as f:
        for i in range(records):
            n = 1000
            f.write(json.dumps({"schema": 1, "step": i // 64, "prompt_id": f"p{i % 64}", "group_id": f"g{i // 8}",
                                "prompt": "Solve: " + "x " * 100, "completion": "But wait, let me check. " * 40,
                                "completion_ids": [rng.randrange(49152) for _ in range(n)],
                                "logprobs": [round(-rng.random() * 3, 6) for _ in range(n)],
                                "entropies": [round(rng.random() * 3, 6) for _ in range(n)],
                                "planning": [rng.randrange(2) for _ in range(n)],
                                "reward": 1.0, "correct": True, "answer": "4", "task": "gsm8k"}) + "\n")


def main() -> None:
    from hicra.io import iter_jsonl

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rollouts.jsonl"
        build(path, args.records)
        ratios = []
        for r in range(args.rounds):
            t = time.perf_counter()
            with path.open("rb") as f:
                plain = [json.loads(line) for line in f if line.strip()]
            t_plain = time.perf_counter() - t
            t = time.perf_counter()
            checked = [rec for _, rec in iter_jsonl(path)]
            t_checked = time.perf_counter() - t
            assert checked == plain
            ratios.append(t_checked / t_plain)
            print(f"round {r + 1}: json.loads {t_plain:.2f} s, hicra.io.iter_jsonl {t_checked:.2f} s, "
                  f"ratio {ratios[-1]:.2f}")
        size = path.stat().st_size / 1e6
    print(f"{args.records} records ({size:.0f} MB): median ratio checked/plain {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
