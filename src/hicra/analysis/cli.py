"""``hicra score``, ``hicra analyze``, ``hicra judge`` and ``hicra report`` (arXiv 2509.03646, §2.2, §4.3.1, §4.5).

Flags come from the option dataclasses (:mod:`hicra.analysis.options`, :class:`hicra.analysis.score.ScoreConfig`);
heavy imports happen inside the run functions so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys

from hicra.config import add_arguments, build_config

RUN_HELP = "a run directory (holding rollouts.jsonl, optionally config.yaml) or a rollout JSONL file"


def register(subparsers) -> None:
    from hicra.analysis.options import AnalysisConfig, JudgeConfig
    from hicra.analysis.score import ScoreConfig

    p = subparsers.add_parser(
        "score", help="fill in per-token logprobs and entropies of rollouts under a checkpoint",
        description="Score every completion of a rollout file with a checkpoint (§2.2.1): completion_ids (kept, or "
                    "tokenised from the text), logprobs and entropies. Appends to --output and skips records already "
                    "there, so an interrupted run resumes.")
    p.add_argument("--input", required=True, help="rollout JSONL (needs step, prompt_id, completion, reward)")
    p.add_argument("--output", required=True, help="scored rollout JSONL (appended)")
    add_arguments(p, ScoreConfig)
    p.set_defaults(func=run_score)

    p = subparsers.add_parser(
        "analyze", help="per-step learning-dynamics metrics of a run (CSV/JSON)",
        description="Per-step (or per --bucket) metrics by token class: relative perplexity, token entropy, semantic "
                    "and conditional entropy of Strategic Grams, planning ratio, length, accuracy, Pass@k and the "
                    "overlap of planning tokens with high-entropy tokens. Planning tokens are re-tagged with "
                    "--lexicon. Writes metrics.csv/json, sg_counts.csv (and ablation/error-type files) to --output.")
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("--output", required=True, help="output directory")
    p.add_argument("--config", default=None, help="YAML file of analysis options (flags override it)")
    add_arguments(p, AnalysisConfig)
    p.set_defaults(func=run_analyze)

    p = subparsers.add_parser(
        "judge", help="classify failed rollouts' error types with an LLM judge (OpenAI-compatible API)",
        description="Sample failed rollouts per step and ask a judge model for the main cause of failure over a "
                    "4-cause taxonomy mapped to 'Planning & Strategy' vs 'Others' (§4.3.1). Judgments are cached and "
                    "resumable; `hicra analyze`/`report` read the cache and add error-type curves.")
    p.add_argument("runs", metavar="RUN", nargs="+", help=RUN_HELP)
    add_arguments(p, JudgeConfig)
    p.set_defaults(func=run_judge)

    p = subparsers.add_parser(
        "report", help="self-contained HTML report comparing runs (figures, traces, CSV/JSON)",
        description="Analyse each run and write DIR/index.html (Fig.-2-style grid per run, overlays across runs, "
                    "fork-token bars, error types when judged, highlighted traces) plus CSV/JSON of every number.")
    p.add_argument("runs", metavar="RUN", nargs="+", help=RUN_HELP)
    p.add_argument("--output", required=True, help="output directory")
    p.add_argument("--title", default="hicra learning dynamics", help="page title")
    p.add_argument("--config", default=None, help="YAML file of analysis options (flags override it)")
    add_arguments(p, AnalysisConfig)
    p.set_defaults(func=run_report)


def _check_output_dir(path: str) -> None:
    """Refuse an --output directory that cannot be created before any analysis runs."""
    from pathlib import Path

    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--output {path}: exists and is not a directory")
    if any(p.exists() and not p.is_dir() for p in out.parents):
        raise ValueError(f"--output {path}: a parent is not a directory")


def _print_notes(name: str, notes: list[str]) -> None:
    for n in notes:
        print(f"note ({name}): {n}", file=sys.stderr)


def run_score(args: argparse.Namespace) -> int:
    from hicra.analysis.score import ScoreConfig, Scorer, pending, score_records
    from hicra.models import load_model, load_tokenizer

    cfg = build_config(ScoreConfig, args)
    todo, skipped = pending(args.input, args.output, cfg.field)  # bad input fails before the model loads
    if todo:
        scorer = Scorer(load_model(cfg.model, cfg.dtype), load_tokenizer(cfg.tokenizer or cfg.model), cfg)
        score_records(todo, args.output, scorer, progress=sys.stderr.isatty())
    print(f"scored {len(todo)} records with {cfg.model} ({skipped} already in {args.output}) → {args.output}")
    return 0


def run_analyze(args: argparse.Namespace) -> int:
    from hicra.analysis.options import AnalysisConfig
    from hicra.analysis.pipeline import analyze_run, write_analysis
    from hicra.io import Outputs

    cfg = build_config(AnalysisConfig, args)
    _check_output_dir(args.output)
    result = analyze_run(args.run, cfg, progress=sys.stderr.isatty())
    with Outputs([("--config", getattr(args, "config", None))]) as out:
        files = write_analysis(result, args.output, out)
    _print_notes(result.info.name, result.notes)
    n = sum(r["n_completions"] for r in result.rows)
    print(f"analyzed {n} records in {len(result.rows)} step buckets → {', '.join(str(f) for f in files)}")
    return 0


def run_judge(args: argparse.Namespace) -> int:
    from hicra.analysis.inputs import resolve_run
    from hicra.analysis.judge import error_counts, judge_run
    from hicra.analysis.options import JudgeConfig

    cfg = build_config(JudgeConfig, args)
    if cfg.cache and len(args.runs) > 1:
        raise ValueError("--cache names one file; judge several runs with their default caches")
    for run in args.runs:
        info = resolve_run(run)
        cache = judge_run(info, cfg, cfg.correct_threshold, progress=sys.stderr.isatty())
        rows = error_counts(cache)
        print(f"{info.name}: {sum(r['judged'] for r in rows)} judged failures in {cache}")
        for r in rows:
            print(f"  step {r['step']}: {r['planning_strategy']} planning & strategy, {r['others']} others, "
                  f"{r['unparsed']} unparsed, {r['inconsistent']} inconsistent (letter and name disagree)")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from hicra.analysis.options import AnalysisConfig
    from hicra.analysis.pipeline import analyze_run
    from hicra.analysis.report import build_report

    cfg = build_config(AnalysisConfig, args)
    _check_output_dir(args.output)
    results = [analyze_run(run, cfg, progress=sys.stderr.isatty()) for run in args.runs]  # any bad run fails first
    for result in results:
        _print_notes(result.info.name, result.notes)
    index = build_report(results, args.output, args.title, [("--config", args.config)])
    print(f"report of {len(results)} runs → {index}")
    return 0
