"""``hicra study``: does HICRA beat its baselines? Methods × seeds through ``hicra train``, held-out evaluation,
statistics over seeds, one report (arXiv 2509.03646, §4).

Study options are :class:`hicra.study.config.StudyConfig` fields; every other flag is a ``hicra train`` flag
(``--preset``, ``--config FILE.yaml``, ``--max-steps`` ...), parsed by ``hicra train``'s own parser and given
unchanged to every run.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

DESCRIPTION = """\
Train every method × seed with `hicra train` (identical settings except method and seed), evaluate each final model
on held-out problems of the training distribution (and optionally on the shipped benchmarks), and compare the first
method with each other one: mean ± 95% t-interval over seeds, paired difference per seed with an exact sign-flip
p-value, problem-level paired bootstrap. Rerunning the same command skips finished runs and resumes interrupted ones.

Every `hicra train` option is accepted (see hicra train --help), e.g. --preset smoke, --config FILE.yaml,
--max-steps 8; --method, --seed, --output-dir and --resume are set per run."""

EPILOG = """\
examples:
  hicra study --methods hicra,grpo --seeds 0,1,2 --output studies/cpu
  hicra study --methods hicra,grpo --seeds 0,1 --preset smoke --heldout-size 16 --output studies/smoke
  hicra study --config configs/qwen3_4b_hicra.yaml --methods hicra,grpo --seeds 0,1,2 --launcher ray \\
      --ray-address auto --ray-num-gpus 1 --eval-benchmarks math500,aime24 --output studies/qwen3_4b
  hicra study --config configs/qwen3_4b_hicra.yaml --seeds 0,1,2 --output studies/q --print-commands  # for Slurm

study directory: study.yaml, runs/METHOD-sSEED/ (a hicra train run + done.json, heldout/, eval/), study.json,
study.csv, runs.csv, curves.csv, contrasts.csv, paired.csv, phases.csv, study.md, report/index.html, logs/ (--jobs).
Contrasts, equivalence tests and the phase analysis: docs/study-statistics.md."""


def register(subparsers) -> None:
    # like `hicra train`: "+" as prefix sends every word to run(), which builds the real parser (TRL imports)
    p = subparsers.add_parser("study", add_help=False, prefix_chars="+",
                              help="methods × seeds with held-out evaluation and statistics; see hicra study --help")
    p.add_argument("argv", nargs="*", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def build_parser() -> argparse.ArgumentParser:
    from hicra.cli import Parser
    from hicra.config import add_arguments
    from hicra.study.config import StudyConfig

    parser = Parser(prog="hicra study", description=DESCRIPTION, epilog=EPILOG, allow_abbrev=False,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, StudyConfig)
    return parser


def parse(argv: list[str]):
    """(StudyConfig, training flags): study options by their own parser, the rest left to ``hicra train``'s."""
    from hicra.config import build_config
    from hicra.study.config import StudyConfig

    args, train_argv = build_parser().parse_known_args(argv)
    study = build_config(StudyConfig, args)
    if not study.output:
        raise ValueError("--output DIR is required (the study directory)")
    return study, train_argv


def run(args: argparse.Namespace) -> int:
    from hicra.trl.cli import _quiet

    _quiet()
    from hicra.io import lock_dir
    from hicra.study.aggregate import (analyze_runs, contrasts, dynamics_curves, paired_curves, phases, summarize,
                                       training_curves)
    from hicra.study.launch import launch_local, launch_ray, train_command
    from hicra.study.parallel import launch_parallel, run_threads
    from hicra.study.plan import check_train_argv, plan_runs, record_study, resolve_training
    from hicra.study.report import write_study

    argv = list(args.argv)
    study, train_argv = parse(argv)
    check_train_argv(train_argv)
    out = Path(study.output)
    specs = plan_runs(out, study, train_argv)
    if study.print_commands:  # flags are checked by hicra train's parser; the config is built where runs train
        from hicra.trl.cli import parse as parse_train

        parse_train([*train_argv, "--output-dir", str(out / "runs")])
        for spec in specs:
            print(train_command(spec))
        return 0
    training = resolve_training(train_argv, out)
    threads = (run_threads(study.jobs, int(training.get("torch_threads") or 0), study.eval_threads)
               if study.jobs > 1 else 0)  # checked before anything is written
    with lock_dir(out, "hicra study"):  # one study process per directory
        record_study(out, study, train_argv, training)
        if threads:
            results = launch_parallel(specs, study, threads, out / "logs")
        else:
            results = (launch_ray if study.launcher == "ray" else launch_local)(specs, study)
        analyses = analyze_runs(results, out / "report" / "runs") if study.analyze else {}
        agg = summarize(results, study)
        files = write_study(out, agg, results, study, training_curves(results), dynamics_curves(analyses, results),
                            shlex.join(["hicra", "study", *argv]), contrasts(results, study), phases(results, study),
                            paired_curves(results, study))
    print((out / "study.md").read_text(encoding="utf-8"))
    print(f"wrote {', '.join(str(f) for f in files)}", file=sys.stderr)
    return 0
