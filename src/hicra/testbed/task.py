"""The testbed task family: problems whose success is decided by the choice of strategy (a planning decision).

A problem shows one worked example of a hidden operation and asks for it on a query pair::

    dax 7 3 -> 21 ; 4 5 -> ?          (answer: 20, the operation is multiplication)

Its *latent type* is the operation (:data:`OPERATIONS`: add ``a+b``, subtract ``a-b``, multiply ``a*b``, double
``a+b+b``). Each operation has its own strategy: a strategy phrase followed by the operation's equations. Levels:

* ``1`` — a cue word opens the prompt; a secret table maps each of the 12 nonce cues (:data:`CUES`) to one operation,
  so the right strategy can be chosen before any arithmetic. Operands 2..9.
* ``2`` — no cue: the type must be inferred from the example's numbers. Operands 2..9.
* ``3`` — no cue, operands 2..19 (harder arithmetic).

Every problem is unambiguous by construction: exactly one operation maps the example pair to its result, and every
operation gives a different answer on the query pair, so a wrong strategy never reaches the right answer.

Strategy phrases (:class:`Variant`): in the ``distinct`` variant each operation opens with its own Strategic Gram of
the ``paper`` lexicon (arXiv 2509.03646, Appendix A), so the planning tokens are the tokens that decide. In the
``same-phrase`` variant every strategy opens with the same gram ("the plan is to") and the deciding word (``add``,
``subtract``, ...) is an execution token, so "planning tokens = deciding tokens" is not true by construction.

Dataset specs: ``testbed:LEVEL`` or ``testbed:LEVEL:same-phrase`` (:func:`parse_spec`). Problem ``i`` of seed ``s``
depends only on ``(s, level, i)``, so a longer set extends a shorter one (held-out rows follow the training rows).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass

SPEC_PREFIX = "testbed:"
LEVELS = ("1", "2", "3")
VARIANTS = ("distinct", "same-phrase")
OPERATIONS = ("add", "subtract", "multiply", "double")
SYMBOLS = {"add": "{a}+{b}", "subtract": "{a}-{b}", "multiply": "{a}*{b}", "double": "{a}+{b}+{b}"}
CUES = ("dax", "wug", "blick", "fep", "toma", "zup", "kiki", "lorp", "mib", "nup", "rell", "vosk")
CUE_TABLE = {cue: OPERATIONS[i % len(OPERATIONS)] for i, cue in enumerate(CUES)}  # the secret table
# one Strategic Gram of the paper lexicon per strategy (distinct variant) and the shared one (same-phrase variant)
DISTINCT_PHRASES = {"add": "a good starting point is", "subtract": "the key insight is",
                    "multiply": "a more direct approach is", "double": "think of this as"}
SHARED_PHRASE = "the plan is to"
BACKTRACK_PHRASE = "wait, that's not right"
OPERAND_RANGES = {"1": (2, 9), "2": (2, 9), "3": (2, 19)}


def apply(op: str, a: int, b: int) -> int:
    """The value of operation ``op`` on ``(a, b)``."""
    if op == "add":
        return a + b
    if op == "subtract":
        return a - b
    if op == "multiply":
        return a * b
    if op == "double":
        return a + 2 * b
    raise ValueError(f"unknown operation {op!r}; valid: {', '.join(OPERATIONS)}")


def strategy_phrase(op: str, variant: str) -> str:
    """The text that opens strategy ``op``: its own gram, or the shared gram plus the deciding word."""
    return DISTINCT_PHRASES[op] if variant == "distinct" else f"{SHARED_PHRASE} {op}"


def planning_part(op: str, variant: str) -> str:
    """The Strategic-Gram part of the strategy phrase (the ground-truth planning span)."""
    return DISTINCT_PHRASES[op] if variant == "distinct" else SHARED_PHRASE


@dataclass(frozen=True)
class Spec:
    """A dataset spec ``testbed:LEVEL[:VARIANT]``."""

    level: str
    variant: str = "distinct"

    def __str__(self) -> str:
        return f"{SPEC_PREFIX}{self.level}" + ("" if self.variant == "distinct" else f":{self.variant}")


def is_testbed_spec(spec: str) -> bool:
    return spec.strip().startswith(SPEC_PREFIX)


def parse_spec(spec: str) -> Spec:
    """``testbed:LEVEL[:same-phrase]`` → :class:`Spec`; anything else is one clear error."""
    parts = spec.strip()[len(SPEC_PREFIX):].split(":")
    level, variant = parts[0], parts[1] if len(parts) > 1 else "distinct"
    if level not in LEVELS:
        raise ValueError(f"dataset {spec!r}: unknown testbed level {level!r}; valid: {', '.join(LEVELS)}")
    if variant not in VARIANTS or len(parts) > 2:
        raise ValueError(f"dataset {spec!r}: unknown testbed variant {':'.join(parts[1:])!r}; valid: "
                         f"{', '.join(VARIANTS)}")
    return Spec(level, variant)


@dataclass(frozen=True)
class Problem:
    """One problem: the example ``a b -> target``, the query ``c d``, and its latent type ``op``."""

    level: str
    variant: str
    cue: str  # "" without a cue (levels 2, 3)
    op: str
    a: int
    b: int
    c: int
    d: int

    @property
    def target(self) -> int:
        return apply(self.op, self.a, self.b)

    @property
    def answer(self) -> int:
        return apply(self.op, self.c, self.d)

    @property
    def text(self) -> str:
        cue = f"{self.cue} " if self.cue else ""
        return f"{cue}{self.a} {self.b} -> {self.target} ; {self.c} {self.d} -> ?"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Problem:
        return Problem(**json.loads(text))

    def consistent_ops(self) -> list[str]:
        """Operations that map the example to its target (exactly one for a generated problem)."""
        return [op for op in OPERATIONS if apply(op, self.a, self.b) == self.target]


def unambiguous(op: str, a: int, b: int, c: int, d: int) -> bool:
    """Exactly one operation fits the example, every operation answers the query differently, all values > 0."""
    target = apply(op, a, b)
    answers = [apply(o, c, d) for o in OPERATIONS]
    fits = [o for o in OPERATIONS if apply(o, a, b) == target]
    return fits == [op] and len(set(answers)) == len(answers) and min(answers) > 0 and target > 0


def problem(spec: Spec, seed: int, index: int) -> Problem:
    """Problem ``index`` of ``seed`` (depends on nothing else: sets of any size share their prefixes)."""
    rng = random.Random(f"testbed/{spec.level}/{seed}/{index}")
    low, high = OPERAND_RANGES[spec.level]
    while True:
        if spec.level == "1":
            cue = rng.choice(CUES)
            op = CUE_TABLE[cue]
        else:
            cue, op = "", rng.choice(OPERATIONS)
        a, b, c, d = (rng.randint(low, high) for _ in range(4))
        if unambiguous(op, a, b, c, d):
            return Problem(spec.level, spec.variant, cue, op, a, b, c, d)


def problems(spec: Spec, size: int, seed: int) -> list[Problem]:
    """The first ``size`` problems of ``seed``."""
    return [problem(spec, seed, i) for i in range(size)]


def parse_problem_text(text: str, variant: str = "distinct") -> Problem | None:
    """The problem shown in ``text`` (the last ``[cue] a b -> t ; c d -> ?`` in it, e.g. a rendered chat prompt),
    with its type recovered from the example; ``None`` if there is none or it fits no single operation."""
    import re

    found = re.findall(r"(?:([a-z]+) )?(\d+) (\d+) -> (\d+) ; (\d+) (\d+) -> \?", text)
    if not found:
        return None
    cue, *numbers = found[-1]
    a, b, target, c, d = map(int, numbers)
    cue = cue if cue in CUE_TABLE else ""
    fits = [op for op in OPERATIONS if apply(op, a, b) == target]
    if len(fits) != 1:
        return None
    level = "1" if cue else ("3" if max(a, b, c, d) > OPERAND_RANGES["2"][1] else "2")
    return Problem(level, variant, cue, fits[0], a, b, c, d)
