"""The ``hicra …`` command lines and the ``--flags`` written in the README and the docs, checked by hicra's own
parsers.

:func:`command_parsers` is the one place that knows how ``hicra.cli`` dispatches a command to its parsers.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
# a value that stands for one the reader supplies: RUN_DIR, FILE.yaml, N, DIR_A, HEAD:6379, ...
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*([.:][A-Za-z0-9_]+)?$|^\.\.\.$")
SHELL_OPERATORS = {"|", "||", "&", "&&", ";", ">", ">>", "<", "2>", "&>"}


@dataclass(frozen=True)
class DocLine:
    """One ``hicra`` command written in a document: where, and its arguments after ``hicra``."""

    path: Path
    line: int
    text: str
    argv: tuple[str, ...]
    inline: bool  # an inline `code` span in prose (may leave out required arguments), not a code block

    def where(self) -> str:
        return f"{self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path}:{self.line}"


def documents() -> list[Path]:
    """README.md and every page under docs/ (pages added later are covered without listing them)."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("**/*.md"))]


def hicra_argv(text: str) -> tuple[str, ...] | None:
    """The arguments after ``hicra`` (or ``.venv/bin/hicra``, ``-m hicra.cli``) in one shell command, up to the first
    shell operator or comment; ``None`` when the text runs no hicra command."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        words = list(lexer)
    except ValueError:  # unbalanced quotes: not a command line
        return None
    for i, word in enumerate(words):
        if word in SHELL_OPERATORS:
            return None
        if word == "hicra" or word.endswith("/bin/hicra") or (word == "hicra.cli" and i and words[i - 1] == "-m"):
            rest = words[i + 1:]
            cut = next((j for j, w in enumerate(rest) if w in SHELL_OPERATORS), len(rest))
            return tuple(rest[:cut])
    return None


def command_lines(path: Path) -> list[DocLine]:
    """The hicra commands of one Markdown file: every line of its code blocks (continuation lines joined) and every
    inline code span that starts with ``hicra``."""
    found: list[DocLine] = []
    in_block = False
    pending, start = "", 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            in_block, pending = not in_block, ""
            continue
        if in_block:
            if not pending:
                start = number
            pending += line.strip()
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            argv = hicra_argv(pending)
            if argv is not None:
                found.append(DocLine(path, start, pending, argv, inline=False))
            pending = ""
            continue
        for span in INLINE.findall(line):
            if re.match(r"(\.venv/bin/)?hicra\s", span + " "):
                argv = hicra_argv(span)
                if argv is not None and argv and not PLACEHOLDER.match(argv[0]):
                    found.append(DocLine(path, number, span, argv, inline=True))
    return found


@functools.cache
def _top_parser() -> argparse.ArgumentParser:
    from hicra.cli import build_parser

    return build_parser()


@functools.cache
def _own_parser(command: str) -> argparse.ArgumentParser:
    """The real parser of a command that registers a pass-through stub (``train``, ``study``: they import TRL)."""
    if command == "train":
        from hicra.trl.cli import build_parser
    else:
        from hicra.study.cli import build_parser
    return build_parser()


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), {})


def command_parsers(argv: list[str]) -> tuple[list[argparse.ArgumentParser], list[str]]:
    """The parsers that read ``hicra ARGV`` and the arguments left for them after the command words.

    All but the last parser read only the arguments they know (``parse_known_args``) and hand the rest on: ``hicra
    study`` takes its own options and gives every other one to ``hicra train``. Nothing is run.
    """
    parser, rest = _top_parser(), list(argv)
    parsers = [parser]
    while rest and rest[0] in _subparsers(parser):
        parser, rest = _subparsers(parser)[rest[0]], rest[1:]
        parsers = {"hicra train": [_own_parser("train")],
                   "hicra study": [_own_parser("study"), _own_parser("train")]}.get(parser.prog, [parser])
        if len(parsers) > 1 or parsers[0] is not parser:
            break
    for p in parsers:
        p.allow_abbrev = False  # a documented flag must be spelled in full: a renamed one must not match by prefix
    return parsers, rest


def _fill_placeholders(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``argv`` with each placeholder value of a typed or restricted option replaced by a value it accepts."""
    out = list(argv)
    for i in range(1, len(out)):
        action = parser._option_string_actions.get(out[i - 1])
        if action is None or not PLACEHOLDER.match(out[i]) or action.nargs == 0:
            continue
        if action.choices:
            out[i] = str(next(iter(action.choices)))
        elif action.type is not None:
            try:
                action.type(out[i])
            except (ValueError, TypeError, argparse.ArgumentTypeError):
                out[i] = "1"
    return out


def _parse(parser: argparse.ArgumentParser, argv: list[str], known: bool) -> tuple[str | None, list[str]]:
    """(error message or None, arguments left over)."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            if known:
                _, left = parser.parse_known_args(argv)
                return None, left
            parser.parse_args(argv)
            return None, []
    except SystemExit as e:
        if e.code in (0, None):  # --help
            return None, []
        return " ".join(stderr.getvalue().split()) or f"exit status {e.code}", []


def check(argv: tuple[str, ...] | list[str], inline: bool = False) -> str | None:
    """Why ``hicra ARGV`` would be refused by hicra's parsers (unknown flag, invalid choice or value), or ``None``.

    Placeholder values (``RUN_DIR``, ``N``, ``FILE.yaml``) stand for any valid value. ``inline``: a command quoted in
    prose may leave out required arguments.
    """
    parsers, rest = command_parsers(list(argv))
    for k, parser in enumerate(parsers):
        error, rest = _parse(parser, _fill_placeholders(parser, rest), known=k < len(parsers) - 1)
        if error and not (inline and ("arguments are required" in error or "expected one argument" in error)):
            return error
    return None


FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def known_flags(command: str | None = None) -> set[str]:
    """The flags of ``hicra COMMAND`` (with its actions, e.g. ``mine ablate``), or of every command."""
    names = [command] if command else list(_subparsers(_top_parser()))
    flags: set[str] = set()
    for name in names:
        parsers, _ = command_parsers([name])
        parsers += list(_subparsers(parsers[0]).values())
        for parser in parsers:
            flags.update(s for s in parser._option_string_actions if s.startswith("--"))
    return flags


def prose_flags(path: Path) -> list[tuple[int, str]]:
    """(line, flag) of every ``--flag`` named in an inline code span of prose that is not a whole command line:
    ```--min-df```, ```--pass-k 1,4,8```, ```mine --rollouts```. Spans that run another program are left out."""
    found: list[tuple[int, str]] = []
    commands = set(_subparsers(_top_parser()))
    in_block = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            in_block = not in_block
            continue
        if in_block:
            continue
        for span in INLINE.findall(line):
            first = span.split()[0] if span.split() else ""
            if first.startswith("--") or first in commands or re.match(r"\S+ >?=? ?--", span):
                found.extend((number, flag) for flag in FLAG.findall(span))
    return found


def page_command(path: Path) -> str | None:
    """The command a guide page documents (docs/commands/NAME.md), else ``None`` (any command's flag may be named)."""
    return path.stem if path.parent.name == "commands" and path.stem in _subparsers(_top_parser()) else None
