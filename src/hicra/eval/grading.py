"""Answer extraction and grading: the final ``\\boxed{}`` of a completion checked against a reference with math-verify.

This is the scorer of arXiv 2509.03646's evaluation (Table 1, §4.1: Pass@1 with the answer taken from the final
``\\boxed{}``, compared for mathematical equivalence) and the correctness signal of the RL reward, so both agree.

Safety: model output is never executed or ``eval``-ed. It is parsed by math-verify (LaTeX → SymPy) only inside the
worker subprocesses of :mod:`hicra.eval.pool`, which are killed when an item exceeds its time budget, so an
adversarial answer (``9^{9^{9^9}}``, thousands of nested braces) is graded wrong instead of hanging, from any thread
or process of the caller. Extraction here runs in linear time. Identical normal forms and pairs of plain numbers
are decided in the caller without SymPy; parses and verdicts are memoised per worker.

Deviations from the reference harness (math-evaluation-harness): equivalence is math-verify's, not sympy-based
string heuristics; a completion without ``\\boxed{}`` falls back only to an explicit "the answer is X" sentence or a
GSM8K-style ``#### X`` line (never "the last number in the text", which would credit unfinished reasoning).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Iterable

from hicra.eval.pool import default_workers, get_pool

DEFAULT_TIMEOUT = 5.0
_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*")
# Fallback answers. Only the phrase is matched by a regex; the answer's end is found by one forward scan, so both
# run in linear time (a lazy ``(.+?)\s*$`` capture retries the whitespace run at every extension: quadratic).
_ANSWER_IS_RE = re.compile(r"(?:final answer|the answer)\s*(?:is|:)\s*:?\s*", re.IGNORECASE)
_ANSWER_END_RE = re.compile(r"\n|\.(?=\s|$)")  # a line end, or a full stop before whitespace or the end
_HASHES_RE = re.compile(r"^[ \t]*####[ \t]*", re.MULTILINE)
_INT_RE = re.compile(r"[+-]?\d+")
_DEC_RE = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_SCI_RE = re.compile(r"([+-]?(?:\d+\.\d*|\.\d+|\d+))[eE]([+-]?\d+)")
_NUMBER_WORDS_RE = re.compile(r"([+-]?[\d,]*\.?\d+)\s+[A-Za-z]{2,}(?:\s+[A-Za-z]{2,})*")
_LETTER_RE = re.compile(r"[A-Za-z]")


def _closing_braces(text: str) -> dict[int, int]:
    """Position of the matching ``}`` for every ``{`` that is closed (one linear pass; ``\\{`` is not a brace)."""
    stack: list[int] = []
    pairs: dict[int, int] = {}
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            pairs[stack.pop()] = i
        i += 1
    return pairs


def extract_boxed(text: str, fallbacks: bool = True) -> str | None:
    """The content of the last ``\\boxed{...}`` or ``\\fbox{...}`` in ``text`` (nested braces kept), else ``None``.

    ``\\boxed 5`` (no braces) yields the token after it. An unclosed final box is ignored in favour of an earlier
    closed one. With ``fallbacks`` and no box at all: the last "final answer is X" / "the answer is X" sentence, then
    the last GSM8K-style ``#### X`` line; surrounding ``$`` are stripped. Runs in linear time on any input.
    """
    if not isinstance(text, str):
        return None
    found: str | None = None
    closing: dict[int, int] | None = None
    for m in _BOX_RE.finditer(text):
        j = m.end()
        if j < len(text) and text[j] == "{":
            closing = _closing_braces(text) if closing is None else closing
            if j in closing:
                found = text[j + 1:closing[j]]
        elif j < len(text) and m.group(0).endswith(" "):
            token = re.match(r"[^\s$]+", text[j:j + 200])
            if token:
                found = token.group(0)
    if found is None and fallbacks:
        found = _answer_sentence(text) or _hashes_line(text)
    if found is None:
        return None
    found = found.strip().strip("$").strip()
    return found or None


def _answer_sentence(text: str) -> str | None:
    """X of the last "the answer is X" / "final answer: X" (X ends at a line end or a full stop before a space)."""
    last = None
    for m in _ANSWER_IS_RE.finditer(text):
        if m.end() < len(text):
            last = m.end()
    if last is None:
        return None
    end = _ANSWER_END_RE.search(text, last + 1)
    return text[last:end.start() if end else len(text)].strip() or None


def _hashes_line(text: str) -> str | None:
    """The rest of the last non-empty GSM8K-style ``#### X`` line."""
    for m in reversed(list(_HASHES_RE.finditer(text))):
        end = text.find("\n", m.end())
        rest = text[m.end():end if end >= 0 else len(text)].strip()
        if rest:
            return rest
    return None


_SPACES = re.compile(r"\s+|\\[,;:! ]|\\q?quad")
_DROP = re.compile(r"\\left|\\right|\\displaystyle|\\mathrm|\\text|\\!|\$")


def normalize(answer: str) -> str:
    """A light canonical string form (spaces, ``\\left``/``\\right``, ``\\dfrac``, trailing period removed)."""
    s = _SPACES.sub("", answer)
    s = _DROP.sub("", s).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = s.rstrip(".").replace("{,}", "")
    if s.startswith("(") and s.endswith(")") and "," not in s and _closing_parens(s) == len(s) - 1:
        s = s[1:-1]  # (x) = x; with a comma it would be a tuple or an interval
    return s


def _closing_parens(s: str) -> int:
    """Index of the ``)`` that closes the ``(`` at ``s[0]`` (-1 if none)."""
    depth = 0
    for i, c in enumerate(s):
        depth += (c == "(") - (c == ")")
        if depth == 0:
            return i
    return -1


def _small_number(text: str) -> Fraction | None:
    """``text`` as an exact number if it is a short plain decimal (bounded size: no huge powers of ten)."""
    if len(text) > 60 or not _DEC_RE.fullmatch(text):
        return None
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > 300:
        return None
    return Fraction(text)


def quick_verdict(answer: str, reference: str) -> bool | None:
    """A verdict without SymPy when one is certain (equal normal forms; two plain numbers), else ``None``."""
    a, r = normalize(answer), normalize(reference)
    if a == r and a:
        return True
    if len(answer) < 100 and _NUMBER_WORDS_RE.fullmatch(answer.strip()) and not _LETTER_RE.search(r):
        a = normalize(answer.split()[0])
    x, y = _small_number(a), _small_number(r)
    if x is not None and y is not None:
        if x == y:
            return True
        if _INT_RE.fullmatch(a) and _INT_RE.fullmatch(r):
            return False  # two different integers; decimals go on to math-verify's tolerant comparison
    return None


def prepare(answer: str, reference: str) -> tuple[str, str]:
    """Forms math-verify reads as intended: ``4.5e33`` → ``4.5\\times10^{33}`` (else read as 4.5·e·33), and
    "18 dollars" → "18" when the reference is a plain number (units in ``\\text{}`` math-verify drops itself)."""
    if len(answer) < 100 and _NUMBER_WORDS_RE.fullmatch(answer) and not _LETTER_RE.search(reference):
        answer = answer.split()[0]
    answer, reference = (_SCI_RE.sub(r"\1\\times10^{\2}", x) if _SCI_RE.fullmatch(x) else x
                         for x in (answer, reference))
    return answer, reference


_CACHE_LIMIT = 50_000
_PARSED: dict[str, list] = {}  # per process: references repeat once per sample, answers across samples
_VERDICTS: dict[tuple[str, str], bool] = {}


def _parse(text: str, inner_timeout: int | None) -> list:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    if text not in _PARSED:
        if len(_PARSED) >= _CACHE_LIMIT:
            _PARSED.clear()
        configs = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
        _PARSED[text] = parse(f"${text}$", configs, parsing_timeout=inner_timeout)  # type: ignore[arg-type]
    return _PARSED[text]


def _clearly_different(gold: list, pred: list) -> bool:
    """True when every parsed gold/pred expression pair is a plain expression in different free symbols.

    math-verify compares variables strictly, so such pairs are never equal, but it would still spend up to its
    timeout simplifying ``gold - pred`` (e.g. a symbolic formula against a number). Relations, sets, tuples,
    intervals and matrices are left to math-verify.
    """
    from sympy import Expr

    def names(x: object) -> frozenset[str] | None:
        if not isinstance(x, Expr) or x.is_Relational:
            return None
        return frozenset(str(s) for s in x.free_symbols)

    exprs = [(names(g), names(p)) for g in gold for p in pred if not isinstance(g, str) and not isinstance(p, str)]
    return bool(exprs) and all(a is not None and b is not None and a != b for a, b in exprs)


def verify_answer(answer: str, reference: str, inner_timeout: int | None = None) -> bool:
    """math-verify equivalence of an extracted answer and a reference (both LaTeX without ``$``), in this process.

    No hard time limit: call it only where a hang is acceptable, or through :func:`grade`/:func:`grade_many`.
    Parses and verdicts are memoised per process (bounded).
    """
    from math_verify import verify

    key = prepare(answer, reference)
    if key not in _VERDICTS:
        gold, pred = _parse(key[1], inner_timeout), _parse(key[0], inner_timeout)
        if len(_VERDICTS) >= _CACHE_LIMIT:
            _VERDICTS.clear()
        _VERDICTS[key] = bool(gold and pred and not _clearly_different(gold, pred)
                              and verify(gold, pred, timeout_seconds=inner_timeout))
    return _VERDICTS[key]


def grade_many(pairs: Iterable[tuple[str, str]], timeout: float = DEFAULT_TIMEOUT,
               workers: int | None = None, extract: bool = True) -> list[bool]:
    """Grade ``(prediction_text, reference)`` pairs; ``True`` where the final boxed answer equals the reference.

    With ``extract=False`` the predictions are already answers (no ``\\boxed{}`` search). Safe to call from any
    thread; items past ``timeout`` seconds (or that crash a worker) are graded ``False``.
    """
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"grading timeout must be a positive number of seconds, got {timeout}")
    pairs = list(pairs)
    verdicts: list[bool | None] = []
    slow: list[tuple[int, str, str]] = []
    for i, (text, reference) in enumerate(pairs):
        answer = extract_boxed(text) if extract else (text.strip() if isinstance(text, str) else None)
        ref = str(reference).strip()
        if not answer or not ref:
            verdicts.append(False)
            continue
        verdict = quick_verdict(answer, ref)
        verdicts.append(verdict)
        if verdict is None:
            slow.append((i, answer, ref))
    if slow:
        done = get_pool(workers or default_workers()).run([(a, r) for _, a, r in slow], timeout)
        for (i, _, _), ok in zip(slow, done):
            verdicts[i] = ok
    return [bool(v) for v in verdicts]


def grade(prediction_text: str, reference: str, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """``True`` if the last ``\\boxed{}`` answer of ``prediction_text`` is equivalent to ``reference`` (Table 1)."""
    return grade_many([(prediction_text, reference)], timeout=timeout)[0]
