"""``hicra eval`` (Pass@1 on the paper's benchmarks, Table 1) and ``hicra grade`` (the shared answer grader)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from hicra.config import add_arguments, build_config, option
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
                    "with the reference in the same records or in --gold FILE.jsonl, line by line). A value that "
                    "looks like a path (ends in .jsonl/.json/.txt, or names a file in an existing directory) is a "
                    "file and must exist. Prints the extracted answer and verdict, or the accuracy; --output writes "
                    "one verdict per record.")
    add_arguments(g, GradeConfig)
    g.set_defaults(func=run_grade)


@dataclass
class GradeConfig:
    """Options of ``hicra grade``."""

    pred: str | None = option(None, "prediction text, or a .jsonl file of predictions (required)")
    gold: str | None = option(None, "reference answer, or a .jsonl file of references")
    pred_field: str = option("completion", "prediction field in JSONL records")
    gold_field: str = option("answer", "reference field in JSONL records")
    extract: bool = option(True, "take the final \\boxed{} answer of each prediction (--no-extract: predictions "
                                 "are bare answers)")
    timeout: float = option(5.0, "seconds per item; slower items are wrong", gt=0, le=3600)
    workers: int = option(2, "grading worker processes", ge=1, le=64)
    output: str | None = option(None, "JSONL file with answer and correct per record")


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


def _looks_like_path(value: str) -> bool:
    """A value meant as a file: a data-file suffix, or a name inside an existing directory ("1/2" is an answer)."""
    if value.endswith((".jsonl", ".json", ".txt")):
        return True
    head, sep, _ = value.rpartition(os.sep)
    return bool(sep) and "\n" not in value and Path(head or os.sep).is_dir()


def _records(option_name: str, value: str) -> list[tuple[int, dict]] | None:
    """``(line, record)`` pairs of the JSONL file ``value``, or ``None`` when ``value`` is literal answer text."""
    from hicra.records import iter_jsonl

    if not _looks_like_path(value):
        return None
    if not Path(value).is_file():
        raise FileNotFoundError(f"{value}: no such file (--{option_name})")
    records = list(iter_jsonl(value))
    if not records:
        raise ValueError(f"{value}: no records (--{option_name} is an empty or blank file)")
    return records


def _field(rec: dict, name: str, path: str, lineno: int) -> str:
    """The text of field ``name`` (a string or a number); anything else is an error naming file:line:field."""
    value = rec.get(name)
    if name not in rec:
        raise ValueError(f"{path}:{lineno}: missing field {name!r} (choose it with --pred-field/--gold-field)")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{path}:{lineno}: field {name!r} is {json.dumps(value)}, not a string or number")
    return str(value)


def run_grade(args: argparse.Namespace) -> int:
    from hicra.eval.grading import extract_boxed, grade_many
    from hicra.io import check_distinct, check_writable, write_jsonl

    config = build_config(GradeConfig, args)
    if config.pred is None:
        raise ValueError("--pred is required (a prediction text or a .jsonl file)")
    inputs = [(f"--{name}", v) for name, v in (("pred", config.pred), ("gold", config.gold))
              if v and _looks_like_path(v)] + [("--config", getattr(args, "config", None))]
    if config.output:
        check_distinct([("--output", config.output)], inputs)
        check_writable(Path(config.output))
    preds = _records("pred", config.pred)
    gold_records = _records("gold", config.gold) if config.gold is not None else None
    extract = config.extract
    if preds is None:
        if config.gold is None or gold_records is not None:
            raise ValueError("--gold TEXT is required with a prediction text")
        answer = extract_boxed(config.pred) if extract else config.pred.strip()
        ok = grade_many([(config.pred, config.gold)], timeout=config.timeout, workers=1, extract=extract)[0]
        print(json.dumps({"answer": answer, "reference": config.gold, "correct": ok}, ensure_ascii=False))
        return 0
    texts = [_field(r, config.pred_field, config.pred, n) for n, r in preds]
    if gold_records is not None:
        golds = [_field(r, config.gold_field, str(config.gold), n) for n, r in gold_records]
        if len(golds) != len(preds):
            raise ValueError(f"{config.pred} has {len(preds)} records but {config.gold} has {len(golds)}")
    elif config.gold is not None:
        golds = [config.gold] * len(preds)
    else:
        golds = [_field(r, config.gold_field, config.pred, n) for n, r in preds]
    verdicts = grade_many(list(zip(texts, golds)), timeout=config.timeout, workers=config.workers, extract=extract)
    if config.output:
        write_jsonl(config.output, ({"answer": extract_boxed(t) if extract else t.strip(), "reference": g,
                                     "correct": ok} for t, g, ok in zip(texts, golds, verdicts)), inputs, "--output")
    n = max(len(verdicts), 1)
    print(f"graded {len(verdicts)}: {sum(verdicts)} correct ({100 * sum(verdicts) / n:.1f}%)")
    return 0
