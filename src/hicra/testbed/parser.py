"""A tolerant parser of any completion on a testbed problem: strategies, equations, checks, backtracks, answer.

It never fails: it reads what it can recognise, in text order, and skips the rest. What it finds:

* *attempts*: each strategy phrase (:func:`~hicra.testbed.task.strategy_phrase`) opens one; its operation is the
  strategy chosen. Its Strategic-Gram part is a ground-truth planning span, and so is each backtrack phrase;
* *equations* ``x op y [op z] = r`` with + - * only, each judged right or wrong by exact integer arithmetic
  (model output is never evaluated as code);
* *checks* ``... = r vs t yes|no``: a failed check is one whose written value differs from the example's result;
* *backtracks*: backtrack phrases, each judged against the check before it (justified iff that check failed);
* the answer: the last ``\\boxed{...}``.

``parseable`` means at least one attempt and a boxed answer; unparseable completions are counted by the metrics,
never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hicra.testbed.task import (BACKTRACK_PHRASE, DISTINCT_PHRASES, OPERATIONS, SHARED_PHRASE, Problem,
                                planning_part)

MAX_ATTEMPTS = 2
_EQUATION = re.compile(r"(\d{1,6}(?:\s*[-+*]\s*\d{1,6})+)\s*=\s*(-?\d{1,7})")
_CHECK = re.compile(r"(-?\d{1,7})\s+vs\s+(-?\d{1,7})\s+(yes|no)\b")
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


def _strategy_pattern(variant: str) -> re.Pattern:
    if variant == "distinct":
        names = {phrase: op for op, phrase in DISTINCT_PHRASES.items()}
        return re.compile("|".join(f"(?P<{names[p]}>{re.escape(p)})" for p in names))
    return re.compile(re.escape(SHARED_PHRASE) + r" (?P<word>[a-z]+)")


def evaluate(expression: str) -> int:
    """Integer value of ``x op y op z ...`` with + - * (usual precedence), from digits and operators only."""
    total = 0
    for sign, term in re.findall(r"([-+]?)\s*(\d+(?:\s*\*\s*\d+)*)", expression):
        value = 1
        for factor in term.split("*"):
            value *= int(factor)
        total += -value if sign == "-" else value
    return total


@dataclass
class Equation:
    start: int
    expression: str
    written: int
    correct: bool


@dataclass
class Parsed:
    """What a completion shows, in text order."""

    strategies: list[str | None] = field(default_factory=list)  # None: a shared phrase with an unknown word
    planning_spans: list[tuple[int, int]] = field(default_factory=list)
    equations: list[Equation] = field(default_factory=list)
    checks_failed: list[bool] = field(default_factory=list)
    backtracks_justified: list[bool] = field(default_factory=list)
    boxed: str | None = None

    @property
    def parseable(self) -> bool:
        return bool(self.strategies) and self.boxed is not None

    @property
    def attempts(self) -> int:
        return len(self.strategies)

    def first_strategy_right(self, problem: Problem) -> bool:
        return bool(self.strategies) and self.strategies[0] == problem.op

    def answered_right(self, problem: Problem) -> bool:
        """The reward's verdict: the boxed answer is the problem's answer within at most two attempts."""
        return self.boxed is not None and self.boxed.strip() == str(problem.answer) and self.attempts <= MAX_ATTEMPTS


def _planning_events(text: str, variant: str) -> list[tuple[int, str, object]]:
    """Strategy phrases ``(start, "strategy", (op, span))`` and backtrack phrases ``(start, "backtrack", span)``."""
    events: list[tuple[int, str, object]] = []
    for m in _strategy_pattern(variant).finditer(text):
        op = m.lastgroup if variant == "distinct" else m.group("word")
        op = op if op in OPERATIONS else None
        gram = planning_part(op or OPERATIONS[0], variant)
        events.append((m.start(), "strategy", (op, (m.start(), m.start() + len(gram)))))
    for m in re.finditer(re.escape(BACKTRACK_PHRASE), text):
        events.append((m.start(), "backtrack", (m.start(), m.end())))
    return events


def planning_spans(text: str, variant: str = "distinct") -> list[tuple[int, int]]:
    """The ground-truth planning spans of ``text``: the Strategic-Gram part of every strategy and backtrack phrase."""
    return sorted(value[1] if kind == "strategy" else value  # type: ignore[index,misc]
                  for _, kind, value in _planning_events(text, variant))


def parse(text: str, problem: Problem) -> Parsed:
    """Parse completion ``text`` of ``problem`` (see the module docstring)."""
    out = Parsed()
    events = _planning_events(text, problem.variant)
    for m in _CHECK.finditer(text):
        events.append((m.start(), "check", int(m.group(1)) != problem.target))
    for m in _EQUATION.finditer(text):
        written = int(m.group(2))
        out.equations.append(Equation(m.start(), m.group(1), written, evaluate(m.group(1)) == written))
    last_check_failed = False
    for _, kind, value in sorted(events, key=lambda e: e[0]):
        if kind == "strategy":
            op, span = value  # type: ignore[misc]
            out.strategies.append(op)
            out.planning_spans.append(span)
            last_check_failed = False
        elif kind == "check":
            out.checks_failed.append(bool(value))
            last_check_failed = bool(value)
        else:
            out.planning_spans.append(value)  # type: ignore[arg-type]
            out.backtracks_justified.append(last_check_failed)
            last_check_failed = False  # one failed check justifies one backtrack
    boxes = _BOXED.findall(text)
    out.boxed = boxes[-1] if boxes else None
    out.planning_spans.sort()
    return out
