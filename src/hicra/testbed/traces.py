"""Generated solution traces with their ground truth (the warm-start corpus and the tests' reference traces).

A trace is one or two attempts and a final answer::

    a good starting point is 7+3=10 vs 21 no.
    wait, that's not right.
    a more direct approach is 7*3=21 vs 21 yes.
    answer 4*5=20 \\boxed{20}

An attempt is a strategy phrase, the operation's equation on the example, and a check against the example's result.
After a failed check the trace backtracks with probability ``backtrack_rate`` (the backtrack phrase, then a second
strategy drawn uniformly from the other three); the final equation applies the last strategy to the query pair.

The first strategy ignores the problem's type: it is drawn from ``prior`` (one probability per operation in
:data:`~hicra.testbed.task.OPERATIONS` order), and every equation is wrong with probability ``error_rate`` (the
written result is off by 1..3), so a warm-started policy has room to learn both planning and execution.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from hicra.testbed.task import BACKTRACK_PHRASE, OPERATIONS, SYMBOLS, Problem, apply, planning_part, strategy_phrase

DEFAULT_PRIOR = (0.55, 0.15, 0.15, 0.15)


def check_prior(prior: Sequence[float]) -> None:
    """A ``ValueError`` unless ``prior`` is one probability per operation, summing to 1."""
    if len(prior) != len(OPERATIONS) or min(prior) < 0 or abs(sum(prior) - 1) > 1e-6:
        raise ValueError(f"must be {len(OPERATIONS)} probabilities summing to 1, got {list(prior)}")


@dataclass(frozen=True)
class TraceStyle:
    """How generated traces behave (the warm-start policy's prior)."""

    prior: tuple[float, ...] = DEFAULT_PRIOR
    error_rate: float = 0.15  # ε: probability that an equation's written result is wrong
    backtrack_rate: float = 0.7  # probability of backtracking after a failed check

    def __post_init__(self) -> None:
        try:
            check_prior(self.prior)
        except ValueError as e:
            raise ValueError(f"prior {e}") from None
        for name in ("error_rate", "backtrack_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")


@dataclass(frozen=True)
class Trace:
    """A generated completion and its ground truth."""

    text: str
    strategies: tuple[str, ...]  # one per attempt
    planning_spans: tuple[tuple[int, int], ...]  # character spans of the Strategic Grams written
    equations_correct: tuple[bool, ...]
    correct: bool  # the boxed answer equals the problem's answer


def equation(op: str, a: int, b: int, wrong: bool, rng: random.Random) -> tuple[str, int]:
    """``"a op b=r"`` and the written r (true, or off by 1..3 and still positive when ``wrong``)."""
    value = apply(op, a, b)
    if wrong:
        value = value + rng.choice([-3, -2, -1, 1, 2, 3]) if value > 3 else value + rng.randint(1, 3)
    return f"{SYMBOLS[op].format(a=a, b=b)}={value}", value


def trace(problem: Problem, style: TraceStyle, rng: random.Random) -> Trace:
    """One sampled solution trace of ``problem`` in ``style``."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    strategies: list[str] = []
    correct_eqs: list[bool] = []
    length = 0

    def write(text: str, planning: str = "") -> None:
        nonlocal length
        if planning:
            spans.append((length, length + len(planning)))
        parts.append(text)
        length += len(text)

    op = rng.choices(OPERATIONS, weights=style.prior)[0]
    for attempt in range(2):
        strategies.append(op)
        wrong = rng.random() < style.error_rate
        text, value = equation(op, problem.a, problem.b, wrong, rng)
        correct_eqs.append(not wrong)
        write(strategy_phrase(op, problem.variant), planning_part(op, problem.variant))
        ok = value == problem.target
        write(f" {text} vs {problem.target} {'yes' if ok else 'no'}.\n")
        if ok or attempt == 1 or rng.random() >= style.backtrack_rate:
            break
        write(BACKTRACK_PHRASE, BACKTRACK_PHRASE)
        write(".\n")
        op = rng.choice([o for o in OPERATIONS if o != op])
    wrong = rng.random() < style.error_rate
    text, value = equation(op, problem.c, problem.d, wrong, rng)
    correct_eqs.append(not wrong)
    write(f"answer {text} \\boxed{{{value}}}")
    return Trace("".join(parts), tuple(strategies), tuple(spans), tuple(correct_eqs), value == problem.answer)
