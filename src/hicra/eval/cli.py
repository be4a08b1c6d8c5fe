"""``hicra eval`` (Pass@1 on the paper's benchmarks, Table 1) and ``hicra grade`` (the shared answer grader)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hicra.config import add_arguments, build_config
from hicra.eval.runner import EvalConfig


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval", help="Pass@1 on AIME24/25, MATH500, AMC23, Minerva, OlympiadBench (paper Table 1)",
        description="Generate completions for each benchmark (cached and resumable under --output), grade the final "
                    "\\boxed{} answer with math-verify and write results.json, results.csv and results.md (Table 1 "
                    "layout: Pass@1 mean ± standard error). `--compare DIR_A DIR_B` prints two runs and their Δ row.")
    p.add_argument("--config", default=None, help="YAML file with any of the options below")
    add_arguments(p, EvalConfig)
    p.add_argument("--compare", nargs=2, metavar=("DIR_A", "DIR_B"), default=None,
                   help="instead of evaluating: print the results of two output directories and the Δ row (A − B)")
    p.add_argument("--labels", default=None, help="row labels for --compare, e.g. HICRA,GRPO (default: model names)")
    p.set_defaults(func=run_eval)

    g = subparsers.add_parser(
        "grade", help="grade predictions against references (final \\boxed{} answer, math-verify)",
        description="Grade one prediction (--pred TEXT --gold TEXT) or a JSONL file of them (--pred FILE.jsonl, "
                    "with the reference in the same records or in --gold FILE.jsonl, line by line). Prints the "
                    "extracted answer and verdict, or the accuracy; --output writes one verdict per record.")
    g.add_argument("--pred", required=True, help="prediction text, or a .jsonl file of predictions")
    g.add_argument("--gold", default=None, help="reference answer, or a .jsonl file of references")
    g.add_argument("--pred-field", default="completion", help="prediction field in JSONL records (default: completion)")
    g.add_argument("--gold-field", default="answer", help="reference field in JSONL records (default: answer)")
    g.add_argument("--no-extract", action="store_true", help="predictions are bare answers, not texts with \\boxed{}")
    g.add_argument("--timeout", type=float, default=5.0, help="seconds per item; slower items are wrong (default: 5)")
    g.add_argument("--workers", type=int, default=2, help="grading worker processes (default: 2)")
    g.add_argument("--output", default=None, help="JSONL file with answer and correct per record")
    g.set_defaults(func=run_grade)


def run_eval(args: argparse.Namespace) -> int:
    if args.compare:
        from hicra.eval.report import compare

        labels = args.labels.split(",") if args.labels else None
        if labels is not None and len(labels) != 2:
            raise ValueError("--labels takes two comma-separated names, e.g. HICRA,GRPO")
        print(compare(args.compare[0], args.compare[1], labels), end="")
        return 0
    from hicra.eval.runner import run

    config = build_config(EvalConfig, args)
    doc = run(config)
    print((Path(config.output or ".") / "results.md").read_text(encoding="utf-8"), end="")
    print(f"wrote {config.output}/results.json, results.csv, results.md", file=sys.stderr)
    return 0 if doc else 1


def _is_jsonl(value: str) -> bool:
    return value.endswith(".jsonl") and Path(value).is_file()


def _field(rec: dict, name: str, path: str, lineno: int) -> str:
    if name not in rec:
        raise ValueError(f"{path}: record {lineno}: missing field {name!r} (choose it with --pred-field/--gold-field)")
    return str(rec[name])


def run_grade(args: argparse.Namespace) -> int:
    from hicra.eval.grading import extract_boxed, grade_many
    from hicra.records import read_jsonl, write_jsonl

    if not _is_jsonl(args.pred):
        if args.pred.endswith(".jsonl"):
            raise ValueError(f"{args.pred}: no such file")
        if args.gold is None:
            raise ValueError("--gold is required with a prediction text")
        answer = args.pred.strip() if args.no_extract else extract_boxed(args.pred)
        ok = grade_many([(args.pred, args.gold)], timeout=args.timeout, workers=1, extract=not args.no_extract)[0]
        print(json.dumps({"answer": answer, "reference": args.gold, "correct": ok}, ensure_ascii=False))
        return 0
    preds = list(read_jsonl(args.pred))
    if args.gold is not None and _is_jsonl(args.gold):
        golds = [_field(r, args.gold_field, args.gold, i) for i, r in enumerate(read_jsonl(args.gold), 1)]
        if len(golds) != len(preds):
            raise ValueError(f"{args.pred} has {len(preds)} records but {args.gold} has {len(golds)}")
    elif args.gold is not None:
        golds = [args.gold] * len(preds)
    else:
        golds = [_field(r, args.gold_field, args.pred, i) for i, r in enumerate(preds, 1)]
    texts = [_field(r, args.pred_field, args.pred, i) for i, r in enumerate(preds, 1)]
    verdicts = grade_many(list(zip(texts, golds)), timeout=args.timeout, workers=args.workers,
                          extract=not args.no_extract)
    if args.output:
        write_jsonl(args.output, ({"answer": t.strip() if args.no_extract else extract_boxed(t), "reference": g,
                                   "correct": ok} for t, g, ok in zip(texts, golds, verdicts)))
    n = max(len(verdicts), 1)
    print(f"graded {len(verdicts)}: {sum(verdicts)} correct ({100 * sum(verdicts) / n:.1f}%)")
    return 0
