"""``hicra`` command line: parses flags and dispatches to the subpackages (no logic lives here)."""

from __future__ import annotations

import argparse
import importlib
import sys
import typing

# Each module defines register(subparsers) and keeps heavy imports inside its run function, so --help is instant.
COMMAND_MODULES = (
    "hicra.tagging.cli",
    "hicra.trl.cli",
    "hicra.mining.cli",
    "hicra.analysis.cli",
    "hicra.eval.cli",
    "hicra.study.cli",
    "hicra.testbed.cli",
)

DESCRIPTION = """\
Hierarchy-aware RL for LLM reasoning (arXiv 2509.03646, "Emergent Hierarchical Reasoning in LLMs through RL").

Pipeline: mine Strategic Grams → tag planning tokens → train (HICRA / GRPO / entropy-regularised GRPO) →
analyse learning dynamics → evaluate Pass@1. Run `hicra COMMAND --help` for each command's options."""


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line, ``PROG: error: MSG`` (exit status 2), like every other
    error of the CLI; ``PROG --help`` still shows the usage."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="hicra", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"hicra {importlib.import_module('hicra').__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    prog = "hicra"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        prog = f"hicra {args.command}"
        try:
            return int(args.func(args) or 0)
        except (ValueError, OSError, RuntimeError) as e:  # user-facing errors: one line, no traceback
            print(f"{prog}: error: {e}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:  # Ctrl-C: one line and the shell's code for SIGINT (128 + 2)
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
