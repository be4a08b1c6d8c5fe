"""``hicra testbed warmstart``: build the testbed's warm-started tiny policy (see :mod:`hicra.testbed.warmstart`)."""

from __future__ import annotations

import argparse

from hicra.testbed.traces import DEFAULT_PRIOR, TraceStyle
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
    w.add_argument("--output", metavar="DIR", help="checkpoint directory (default: $HICRA_HOME/models/testbed, "
                                                   "which --model testbed names)")
    w.add_argument("--dataset", default="testbed:1", help="problems: testbed:LEVEL[:same-phrase] (levels 1, 2, 3)")
    w.add_argument("--traces", type=int, default=WarmStartConfig.traces, help="generated SFT traces")
    w.add_argument("--epochs", type=float, default=WarmStartConfig.epochs, help="SFT epochs")
    w.add_argument("--learning-rate", type=float, default=WarmStartConfig.learning_rate, help="SFT learning rate")
    w.add_argument("--prior", default=",".join(map(str, DEFAULT_PRIOR)),
                   help="first-strategy probabilities of add,subtract,multiply,double (ignoring the type)")
    w.add_argument("--error-rate", type=float, default=TraceStyle.error_rate, help="ε: wrong-equation rate")
    w.add_argument("--backtrack-rate", type=float, default=TraceStyle.backtrack_rate,
                   help="probability of backtracking after a failed first check")
    w.add_argument("--gate-samples", type=int, default=WarmStartConfig.gate_samples, help="problems sampled for the gates")
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--torch-threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    w.set_defaults(func=run_warmstart)


def _prior(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"--prior: expected comma-separated probabilities, got {text!r}") from None


def run_warmstart(args: argparse.Namespace) -> int:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    from hicra.models import hicra_home
    from hicra.testbed.task import parse_spec
    from hicra.testbed.warmstart import warm_start

    parse_spec(args.dataset)  # a bad spec fails before anything is built
    for name in ("traces", "gate_samples"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be ≥ 1, got {getattr(args, name)}")
    if not (args.epochs > 0 and args.learning_rate > 0):
        raise ValueError("--epochs and --learning-rate must be > 0")
    style = TraceStyle(_prior(args.prior), args.error_rate, args.backtrack_rate)
    output = args.output or str(hicra_home() / "models" / "testbed")
    doc = warm_start(WarmStartConfig(output, args.dataset, args.traces, args.epochs, args.learning_rate,
                                     gate_samples=args.gate_samples, seed=args.seed,
                                     torch_threads=args.torch_threads, style=style))
    print(f"warm start ready in {output}: {doc['parameters'] / 1e6:.2f} M parameters, "
          f"SFT {doc['sft_seconds']:.0f} s, total {doc['total_seconds']:.0f} s")
    return 0
