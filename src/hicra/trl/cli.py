"""``hicra train``: RL training with HICRA, GRPO or entropy-regularised GRPO on TRL (arXiv 2509.03646, §3–4).

Options come from :class:`hicra.trl.config.HICRAConfig`, one flag per field: defaults → ``--preset`` → ``--config
FILE.yaml`` → flags. The train parser is built only when ``train`` runs (it imports TRL), so ``hicra --help`` stays
instant.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import typing
from pathlib import Path
from typing import Any

DESCRIPTION = """\
Train a policy with hierarchy-aware credit assignment (HICRA, arXiv 2509.03646 §3) or a baseline, on TRL's
GRPOTrainer. With no option: HICRA on SmolLM2-135M-Instruct and easy reasoning-gym arithmetic, offline, about
15 minutes on 2 CPU cores, ending with a summary table.

Methods: see --method below (the credit-assignment methods registered in hicra.core.registry, among them control
arms that are not in the paper). All of them train with the PPO clipped loss and clip-higher (--epsilon-high, §4.1).

Order of precedence: field defaults < --preset < --config FILE.yaml < flags. YAML keys are the field names below
(underscores); every trl.GRPOConfig / transformers.TrainingArguments field is accepted too (--help-all lists them)."""

EPILOG = """\
examples:
  hicra train                                   # the default HICRA run (writes runs/hicra-TIMESTAMP/)
  hicra train --preset smoke                    # a few-second end-to-end check
  hicra train --method grpo --max-steps 40 --output-dir runs/grpo
  hicra train --dataset ../shared/benchmarks/gsm8k/test.jsonl --dataset-size 200
  hicra train --config configs/qwen3_4b_hicra.yaml   # GPU recipe (vLLM), via accelerate launch
  hicra train --resume runs/hicra-20250101-120000    # continue after a crash or kill

run directory: config.yaml, checkpoint-N/, metrics.jsonl (keys: hicra/engine/metrics.py), rollouts.jsonl
(schema: hicra/records.py), runs/ (TensorBoard)."""

# TRL / Trainer fields shown in --help besides hicra's own and the ones hicra gives new defaults
COMMON_TRL_FIELDS = (
    "seed", "num_iterations", "gradient_accumulation_steps", "steps_per_generation", "beta", "epsilon", "loss_type",
    "scale_rewards", "top_p", "mask_truncated_completions", "entropy_coef", "save_strategy", "warmup_steps",
    "max_grad_norm", "use_vllm", "vllm_mode", "vllm_server_base_url", "vllm_gpu_memory_utilization",
    "vllm_tensor_parallel_size", "log_completions", "use_cpu",
)


def register(subparsers) -> None:
    # "+" as the prefix makes every word (including --help) reach run(), which builds the real parser
    p = subparsers.add_parser("train", add_help=False, prefix_chars="+",
                              help="RL training: HICRA / GRPO / entropy-regularised GRPO (TRL); see hicra train --help")
    p.add_argument("argv", nargs="*", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def build_parser(show_all: bool = False) -> argparse.ArgumentParser:
    """The full ``hicra train`` parser (imports TRL)."""
    from hicra.config import add_field
    from hicra.trl.config import HICRA_FIELDS, OVERRIDDEN_FIELDS, HICRAConfig
    from hicra.trl.run import PRESETS

    from hicra.cli import Parser

    parser = Parser(prog="hicra train", description=DESCRIPTION, epilog=EPILOG,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    run = parser.add_argument_group("run")
    run.add_argument("--config", metavar="FILE.yaml", help="YAML file of field: value (keys = field names below)")
    run.add_argument("--preset", choices=sorted(PRESETS), default="default",
                     help="'smoke': a tiny budget (2 steps, 12-token completions, under a minute); 'testbed': the "
                          "strategy testbed's tiny policy and task (docs/testbed.md); 'default': none")
    run.add_argument("--resume", metavar="RUN_DIR", help="continue RUN_DIR from its last checkpoint (its config.yaml "
                                                         "is the base; flags such as --max-steps still override)")
    run.add_argument("--overwrite", action="store_true",
                     help="replace the run in a non-empty --output-dir: its logs, config and checkpoints are removed "
                          "once model, tokenizer, data and lexicon have loaded (a non-empty directory is refused "
                          "without --resume or --overwrite)")
    run.add_argument("--help-all", action="store_true", help="also list every inherited TRL/Trainer option")
    fields = {f.name: f for f in dataclasses.fields(HICRAConfig)}
    hints = typing.get_type_hints(HICRAConfig)
    sections = (("HICRA options (hicra.trl.HICRAConfig)", HICRA_FIELDS),
                ("TRL options with hicra defaults", OVERRIDDEN_FIELDS),
                ("common TRL options (trl.GRPOConfig)", COMMON_TRL_FIELDS))
    shown: set[str] = set()
    for title, names in sections:
        group = parser.add_argument_group(title)
        for name in names:
            if name in shown:
                continue
            add_field(group, fields[name], hints[name])
            shown.add(name)
    rest = parser.add_argument_group("all other trl.GRPOConfig / TrainingArguments options") if show_all else parser
    for name, f in fields.items():
        if name not in shown and f.init:
            add_field(rest, f, hints[name], hidden=not show_all)
    return parser


def parse(argv: list[str]) -> tuple[argparse.Namespace, dict[str, Any]]:
    """Parsed run options and the requested config values: one merge (:func:`hicra.config.merge_values`) of
    preset < a resumed run's config.yaml < ``--config`` YAML < flags."""
    from hicra.config import flag_values, load_yaml, merge_values
    from hicra.trl.config import HICRAConfig
    from hicra.trl.run import PRESETS

    if "--help-all" in argv:
        build_parser(show_all=True).print_help()
        raise SystemExit(0)
    args = build_parser().parse_args(argv)
    layers: list[tuple[str, dict[str, Any]]] = [(f"--preset {args.preset}", PRESETS[args.preset])]
    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "config.yaml").is_file():
            raise ValueError(f"{run_dir}: not a run directory (no config.yaml)")
        if Path(getattr(args, "output_dir", args.resume)).resolve() != run_dir.resolve():
            raise ValueError(f"--resume {args.resume} continues that run in its own directory; "
                             f"--output-dir {args.output_dir} would start another (drop one of them)")
        layers += [(str(run_dir / "config.yaml"), load_yaml(run_dir / "config.yaml", HICRAConfig)),
                   ("--resume", {"output_dir": str(run_dir)})]
    if args.config:
        layers.append((args.config, load_yaml(args.config, HICRAConfig)))
    values = merge_values(HICRAConfig, [*layers, ("flags", flag_values(HICRAConfig, args))])
    if not values.get("output_dir"):
        values["output_dir"] = f"runs/{values.get('method', 'hicra')}-{time.strftime('%Y%m%d-%H%M%S')}"
    return args, values


def _quiet() -> None:
    """Silence library warnings that say nothing about this run (deprecations, CPU pin_memory)."""
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*pin_memory.*")


def run(args: argparse.Namespace) -> int:
    _quiet()
    from hicra.trl.config import HICRAConfig
    from hicra.trl.run import print_summary, train

    options, values = parse(list(args.argv))
    config = HICRAConfig(**values)
    summary = train(config, values, resume=bool(options.resume), overwrite=options.overwrite)
    if config.process_index == 0:
        print_summary(summary)
        sys.stdout.flush()
    return 0
