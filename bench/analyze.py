"""Throughput of ``hicra analyze`` (target: <= 10 s per 1 M completion tokens, everything but the tokenizer load).

Builds a synthetic rollout file of >= 1 M tokens (every field filled in, as the trainer writes it), then times the
full analysis: JSON parsing, validation, planning-token tagging with the paper lexicon, fork-token selection and all
per-step metrics. The same run also times plain ``json.loads`` of the file as a baseline, so the ratio can be
compared across machines.

    .venv/bin/python bench/analyze.py [--tokens 1000000] [--ablation]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def build_file(path: Path, tokens: int, tagger) -> tuple[int, int]:
    from hicra.analysis.synthetic import synthetic_records

    pool = synthetic_records(tagger.tokenizer, tagger, steps=10, prompts=8, group=8, seed=0)
    n_tok = n_rec = 0
    with path.open("w", encoding="utf-8") as f:
        while n_tok < tokens:
            for rec in pool:
                rec = dict(rec, step=n_rec // 640, group_id=f"{n_rec // 640}-{rec['prompt_id']}")
                f.write(json.dumps(rec) + "\n")
                n_tok += len(rec["completion_ids"])
                n_rec += 1
                if n_tok >= tokens:
                    break
    return n_rec, n_tok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000, help="completion tokens in the file")
    parser.add_argument("--ablation", action="store_true", help="also recompute 5 lexicon ablations (0.3)")
    args = parser.parse_args()

    from hicra.analysis.options import AnalysisConfig
    from hicra.analysis.pipeline import analyze_run, load_tagger

    t0 = time.perf_counter()
    tagger = load_tagger("paper", "smollm2")
    t_load = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rollouts.jsonl"
        n_rec, n_tok = build_file(path, args.tokens, tagger)
        t0 = time.perf_counter()
        with path.open(encoding="utf-8") as f:
            for line in f:
                json.loads(line)
        t_json = time.perf_counter() - t0
        cfg = AnalysisConfig(tokenizer="smollm2", lexicon_ablation=0.3 if args.ablation else 0.0, seeds=5)
        t0 = time.perf_counter()
        rows = analyze_run(path, cfg).rows
        t_an = time.perf_counter() - t0
        size = path.stat().st_size / 1e6
    per_m = t_an / n_tok * 1e6
    print(f"file: {n_rec} records, {n_tok} tokens, {size:.0f} MB, {len(rows)} steps; tokenizer load {t_load:.1f} s")
    print(f"baseline json.loads of the file: {t_json:.2f} s")
    print(f"hicra analyze{' (+5 ablations)' if args.ablation else ''}: {t_an:.2f} s = {per_m:.2f} s per 1 M tokens "
          f"({t_an / t_json:.1f}x json.loads) — target <= 10 s per 1 M tokens: {'OK' if per_m <= 10 else 'SLOW'}")


if __name__ == "__main__":
    main()
