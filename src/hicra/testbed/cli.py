"""``hicra testbed warmstart``: build the testbed's warm-started tiny policy (see :mod:`hicra.testbed.warmstart`)."""

from __future__ import annotations

import argparse

from hicra.config import add_arguments, build_config
from hicra.testbed.warmstart import WarmStartConfig

EPILOG = """\
then:
  hicra train --preset testbed                  # RL on the testbed with the default warm start (--model testbed)
  hicra train --preset testbed --model DIR      # with the warm start in DIR
see docs/testbed.md"""


def register(subparsers) -> None:
    p = subparsers.add_parser("testbed", help="strategy testbed: a task where planning decides success, tiny policy",
                              description="The strategy testbed (docs/testbed.md).")
    commands = p.add_subparsers(dest="testbed_command", metavar="COMMAND", required=True)
    w = commands.add_parser("warmstart", help="tokenizer + tiny Llama + SFT on generated traces, then gates",
                            description="Train the testbed policy's warm start: a BPE tokenizer and a tiny Llama, "
                                        "fine-tuned with TRL's SFTTrainer on generated traces, checked by gates. "
                                        "A finished warm start in --output is reused.",
                            epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    w.add_argument("--config", metavar="FILE.yaml", help="YAML file of options (flags override it)")
    add_arguments(w, WarmStartConfig)
    w.set_defaults(func=run_warmstart)


def run_warmstart(args: argparse.Namespace) -> int:
    import dataclasses
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    from hicra.models import testbed_dir
    from hicra.testbed.warmstart import warm_start

    config = build_config(WarmStartConfig, args)  # a bad option fails before anything is built
    if not config.output:
        config = dataclasses.replace(config, output=str(testbed_dir()))
    doc = warm_start(config)
    print(f"warm start ready in {config.output}: {doc['parameters'] / 1e6:.2f} M parameters, "
          f"SFT {doc['sft_seconds']:.0f} s, total {doc['total_seconds']:.0f} s")
    return 0
