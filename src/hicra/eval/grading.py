"""Answer extraction and grading: the final ``\\boxed{}`` of a completion checked against a reference with math-verify.

This is the scorer of arXiv 2509.03646's evaluation (Table 1, §4.1: Pass@1 with the answer taken from the final
``\\boxed{}``, compared for mathematical equivalence) and the correctness signal of the RL reward, so both agree.

Safety: model output is never executed or ``eval``-ed; it is parsed by math-verify (LaTeX → SymPy) in **worker
subprocesses** that are killed when an item exceeds its time budget, so an adversarial answer (``9^{9^{9^9}}``,
thousands of nested braces) is graded wrong instead of hanging. math-verify's own ``signal.alarm`` timeouts only
work in a main thread; here they run inside each worker's main thread as a first, cheap limit, and the hard kill
works from any thread or process of the caller (workers are plain ``subprocess`` children, so daemonic processes
such as data-loader workers may grade too). Each worker also caps its address space (``HICRA_GRADE_MEM_MB``).

Deviations from the reference harness (math-evaluation-harness): equivalence is math-verify's, not sympy-based
string heuristics; a completion without ``\\boxed{}`` falls back only to an explicit "the answer is X" sentence or a
GSM8K-style ``#### X`` line (never "the last number in the text", which would credit unfinished reasoning).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from fractions import Fraction
from typing import Iterable, Sequence

DEFAULT_TIMEOUT = 5.0
_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*")
_ANSWER_IS_RE = re.compile(r"(?:final answer|the answer)\s*(?:is|:)\s*:?\s*(.+?)\s*(?:\.\s*$|\.\s+|\n|$)",
                           re.IGNORECASE)
_HASHES_RE = re.compile(r"^\s*####\s*(.+?)\s*$", re.MULTILINE)
_INT_RE = re.compile(r"[+-]?\d+")
_DEC_RE = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)")


def _braced(text: str, start: int) -> tuple[str, int] | None:
    """The content of the ``{...}`` group opening at ``text[start]`` (nested braces, ``\\{`` escapes) and its end."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i], i + 1
        i += 1
    return None


def extract_boxed(text: str, fallbacks: bool = True) -> str | None:
    """The content of the last ``\\boxed{...}`` or ``\\fbox{...}`` in ``text`` (nested braces kept), else ``None``.

    ``\\boxed 5`` (no braces) yields the token after it. An unclosed final box is ignored in favour of an earlier
    closed one. With ``fallbacks`` and no box at all: the last "final answer is X" / "the answer is X" sentence, then
    the last GSM8K-style ``#### X`` line; surrounding ``$`` are stripped. Runs in linear time on any input.
    """
    if not isinstance(text, str):
        return None
    found: str | None = None
    for m in _BOX_RE.finditer(text):
        j = m.end()
        if j < len(text) and text[j] == "{":
            group = _braced(text, j)
            if group is not None:
                found = group[0]
        elif j < len(text) and m.group(0).endswith(" "):
            token = re.match(r"[^\s$]+", text[j:])
            if token:
                found = token.group(0)
    if found is None and fallbacks:
        for rx in (_ANSWER_IS_RE, _HASHES_RE):
            matches = rx.findall(text)
            if matches:
                found = matches[-1]
                break
    if found is None:
        return None
    found = found.strip().strip("$").strip()
    return found or None


_SPACES = re.compile(r"\s+|\\[,;:! ]|\\q?quad")
_DROP = re.compile(r"\\left|\\right|\\displaystyle|\\mathrm|\\text|\\!|\$")


def normalize(answer: str) -> str:
    """A light canonical string form (spaces, ``\\left``/``\\right``, ``\\dfrac``, trailing period removed)."""
    s = _SPACES.sub("", answer)
    s = _DROP.sub("", s).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return s.rstrip(".").replace("{,}", "")


def quick_verdict(answer: str, reference: str) -> bool | None:
    """A verdict without SymPy when one is certain (equal normal forms; two plain numbers), else ``None``."""
    a, r = normalize(answer), normalize(reference)
    if a == r and a:
        return True
    if _DEC_RE.fullmatch(a) and _DEC_RE.fullmatch(r):
        if Fraction(a) == Fraction(r):
            return True
        if _INT_RE.fullmatch(a) and _INT_RE.fullmatch(r):
            return False  # two different integers; decimals go on to math-verify's tolerant comparison
    return None


def verify_answer(answer: str, reference: str, inner_timeout: int | None = None) -> bool:
    """math-verify equivalence of an extracted answer and a reference (both LaTeX without ``$``), in this process.

    No hard time limit: call it only where a hang is acceptable, or through :func:`grade`/:func:`grade_many`.
    """
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    configs = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    gold = parse(f"${reference}$", configs, parsing_timeout=inner_timeout)  # type: ignore[arg-type]
    pred = parse(f"${answer}$", configs, parsing_timeout=inner_timeout)  # type: ignore[arg-type]
    if not gold or not pred:
        return False
    return bool(verify(gold, pred, timeout_seconds=inner_timeout))


def _serve() -> None:
    """Worker loop: read ``[id, answer, reference, inner_timeout]`` lines on stdin, write ``[id, ok]`` lines."""
    import logging
    import resource

    mem_mb = int(os.environ.get("HICRA_GRADE_MEM_MB", "4096"))
    if mem_mb > 0:
        resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
    logging.disable(logging.CRITICAL)  # math-verify logs every timeout
    import math_verify  # noqa: F401  (import before announcing readiness)

    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        item_id, answer, reference, inner = json.loads(line)
        try:
            ok = verify_answer(answer, reference, inner)
        except BaseException:  # MemoryError, RecursionError, timeouts: all graded wrong
            ok = False
        out.write(json.dumps([item_id, ok]) + "\n")
        out.flush()


class _Worker:
    """One grading subprocess with a line protocol, up to ``depth`` items in flight."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from hicra.eval.grading import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, close_fds=True)
        self.fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        self.buf = b""
        self.ready = False
        self.inflight: deque[int] = deque()
        self.head_start = 0.0

    def send(self, item_id: int, answer: str, reference: str, inner: int | None) -> None:
        if not self.inflight:
            self.head_start = time.monotonic()
        self.inflight.append(item_id)
        self.proc.stdin.write((json.dumps([item_id, answer, reference, inner]) + "\n").encode())  # type: ignore
        self.proc.stdin.flush()  # type: ignore[union-attr]

    def read_lines(self) -> list[str]:
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            self.log.seek(0)
            tail = self.log.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"grading worker exited: {tail[-1] if tail else 'no message'}")
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        return [x.decode() for x in lines]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.log):
            try:
                f.close()  # type: ignore[union-attr]
            except OSError:
                pass


class GradingPool:
    """Persistent worker subprocesses that grade (answer, reference) items with a hard per-item timeout."""

    def __init__(self, workers: int = 2, depth: int = 2) -> None:
        self.size = max(1, workers)
        self.depth = depth
        self.workers = [_Worker() for _ in range(self.size)]
        self.lock = threading.Lock()

    def close(self) -> None:
        for w in self.workers:
            w.kill()
        self.workers = []

    def run(self, items: Sequence[tuple[str, str]], timeout: float) -> list[bool]:
        """Verdicts of math-verify for ``items`` in order; an item running past ``timeout`` seconds is ``False``."""
        inner = int(timeout // 3) if timeout >= 3 else None  # math-verify's own limits, per parse/compare call
        results: list[bool | None] = [None] * len(items)
        pending = deque(range(len(items)))
        with self.lock:
            remaining = len(items)
            while remaining:
                for w in self.workers:
                    while w.ready and pending and len(w.inflight) < self.depth:
                        i = pending.popleft()
                        w.send(i, items[i][0], items[i][1], inner)
                now = time.monotonic()
                waits = [w.head_start + timeout - now for w in self.workers if w.inflight]
                ready, _, _ = select.select([w.fd for w in self.workers], [], [], max(0.0, min(waits, default=1.0)))
                for w in list(self.workers):
                    if w.fd in ready:
                        for line in w.read_lines():
                            if line == "ready":
                                w.ready = True
                                continue
                            item_id, ok = json.loads(line)
                            w.inflight.popleft()
                            w.head_start = time.monotonic()
                            results[item_id] = bool(ok)
                            remaining -= 1
                    if w.inflight and time.monotonic() - w.head_start > timeout:
                        results[w.inflight.popleft()] = False  # too slow: hard kill, re-queue what was behind it
                        remaining -= 1
                        pending.extendleft(reversed(w.inflight))
                        w.kill()
                        self.workers[self.workers.index(w)] = _Worker()
        return [bool(r) for r in results]


_POOLS: dict[int, GradingPool] = {}
_POOLS_LOCK = threading.Lock()


def _pool(workers: int) -> GradingPool:
    with _POOLS_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = GradingPool(workers)
        return _POOLS[workers]


@atexit.register
def shutdown() -> None:
    """Stop all grading workers (also runs at interpreter exit)."""
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()


def default_workers() -> int:
    """Worker processes used by default: ``$HICRA_GRADE_WORKERS`` or min(2, CPU count)."""
    return int(os.environ.get("HICRA_GRADE_WORKERS", min(2, os.cpu_count() or 1)))


def grade_many(pairs: Iterable[tuple[str, str]], timeout: float = DEFAULT_TIMEOUT,
               workers: int | None = None, extract: bool = True) -> list[bool]:
    """Grade ``(prediction_text, reference)`` pairs; ``True`` where the final boxed answer equals the reference.

    With ``extract=False`` the predictions are already answers (no ``\\boxed{}`` search). Safe to call from any
    thread; items past ``timeout`` seconds (or that crash a worker) are graded ``False``.
    """
    pairs = list(pairs)
    verdicts: list[bool | None] = []
    slow: list[tuple[int, str, str]] = []
    for i, (text, reference) in enumerate(pairs):
        answer = extract_boxed(text) if extract else (text.strip() if isinstance(text, str) else None)
        ref = str(reference).strip()
        if answer is None or not ref:
            verdicts.append(False)
            continue
        verdict = quick_verdict(answer, ref)
        verdicts.append(verdict)
        if verdict is None:
            slow.append((i, answer, ref))
    if slow:
        done = _pool(workers or default_workers()).run([(a, r) for _, a, r in slow], timeout)
        for (i, _, _), ok in zip(slow, done):
            verdicts[i] = ok
    return [bool(v) for v in verdicts]


def grade(prediction_text: str, reference: str, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """``True`` if the last ``\\boxed{}`` answer of ``prediction_text`` is equivalent to ``reference`` (Table 1)."""
    return grade_many([(prediction_text, reference)], timeout=timeout, workers=1)[0]
