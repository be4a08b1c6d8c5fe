"""Grading worker processes with a hard per-item timeout, usable from any thread or process.

math-verify (LaTeX → SymPy) can run for minutes or exhaust memory on adversarial answers (``9^{9^{9^9}}``, deep
nesting), and its ``signal.alarm`` timeouts only work in a main thread. :class:`GradingPool` therefore runs
:func:`hicra.eval.grading.verify_answer` in persistent ``subprocess`` children speaking a JSON-lines protocol on
stdin/stdout: an item still running after its timeout gets its worker killed and replaced (a spare is kept warm),
and counts as wrong; so does an item whose worker crashes. Plain subprocesses (not ``multiprocessing``) also work
from daemonic processes such as data-loader workers, and pools are not shared across ``fork``. Each worker caps its
address space (``$HICRA_GRADE_MEM_MB``, default 4096) and keeps math-verify's own timeouts as a cheaper first limit.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import deque
from typing import Sequence


def _serve() -> None:
    """Worker loop: read ``[id, answer, reference, inner_timeout]`` lines on stdin, write ``[id, ok]`` lines."""
    import logging
    import resource

    mem_mb = int(os.environ.get("HICRA_GRADE_MEM_MB", "4096"))
    if mem_mb > 0:
        resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
    logging.disable(logging.CRITICAL)  # math-verify logs every timeout
    out = os.fdopen(os.dup(1), "w")  # the protocol channel; stray prints of libraries go to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import math_verify  # noqa: F401  (loaded before announcing readiness)

    from hicra.eval.grading import verify_answer

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
            [sys.executable, "-c", "from hicra.eval.pool import _serve; _serve()"],
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
        try:
            self.proc.stdin.write((json.dumps([item_id, answer, reference, inner]) + "\n").encode())  # type: ignore
            self.proc.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            pass  # the worker died; read_lines reports it

    def read_lines(self) -> list[str] | None:
        """Complete lines received so far, or ``None`` if the worker has exited."""
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            if not self.ready:  # it never started: a broken installation, not a bad answer
                self.proc.wait()
                self.log.seek(0)
                tail = self.log.read().decode(errors="replace").strip().splitlines()
                raise RuntimeError(f"grading worker failed to start: {tail[-1] if tail else 'no message'}")
            return None
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

    def __init__(self, workers: int = 2, depth: int = 4) -> None:
        self.size = max(1, workers)
        self.depth = depth
        self.workers = [_Worker() for _ in range(self.size)]
        self.spare: _Worker | None = None  # started at the first kill, so a replacement is ready at once
        self.lock = threading.Lock()

    def close(self) -> None:
        for w in self.workers + ([self.spare] if self.spare else []):
            w.kill()
        self.workers, self.spare = [], None

    def _replace(self, w: _Worker) -> None:
        w.kill()
        self.workers[self.workers.index(w)] = self.spare or _Worker()
        self.spare = _Worker()

    def _collect(self, w: _Worker, readable: bool, results: list[bool | None], pending: deque[int],
                 timeout: float) -> int:
        """Store ``w``'s finished verdicts; kill it if its current item is late or it died. Returns items done."""
        lines = w.read_lines() if readable else []
        done = 0
        for line in lines or []:
            if line == "ready":
                w.ready = True
                continue
            item_id, ok = json.loads(line)
            w.inflight.popleft()
            w.head_start = time.monotonic()
            results[item_id] = bool(ok)
            done += 1
        if lines is None or (w.inflight and time.monotonic() - w.head_start > timeout):
            if w.inflight:  # too slow, or crashed (e.g. out of memory): wrong; re-queue the items behind it
                results[w.inflight.popleft()] = False
                done += 1
                pending.extendleft(reversed(w.inflight))
            self._replace(w)
        return done

    def run(self, items: Sequence[tuple[str, str]], timeout: float) -> list[bool]:
        """Verdicts of math-verify for ``items`` in order; an item running past ``timeout`` seconds is ``False``."""
        inner = int(timeout // 3) if timeout >= 3 else None  # math-verify's own limits, per parse/compare call
        results: list[bool | None] = [None] * len(items)
        # items with the same reference go to the same worker, whose parse cache then holds it (others steal work
        # when their own queue runs dry)
        queues: list[deque[int]] = [deque() for _ in self.workers]
        for i, (_, reference) in enumerate(items):
            queues[zlib.crc32(reference.encode()) % len(queues)].append(i)
        with self.lock:
            remaining = len(items)
            while remaining:
                for level in range(1, self.depth + 1):  # spread work: one item per worker before queueing more
                    for j, w in enumerate(self.workers):
                        if w.ready and len(w.inflight) < level:
                            queue = queues[j] if queues[j] else max(queues, key=len)
                            if queue:
                                i = queue.popleft() if queue is queues[j] else queue.pop()
                                w.send(i, items[i][0], items[i][1], inner)
                now = time.monotonic()
                waits = [w.head_start + timeout - now for w in self.workers if w.inflight]
                ready, _, _ = select.select([w.fd for w in self.workers], [], [], max(0.0, min(waits, default=1.0)))
                for w in list(self.workers):
                    remaining -= self._collect(w, w.fd in ready, results, queues[self.workers.index(w)], timeout)
        return [bool(r) for r in results]


_POOLS: dict[int, GradingPool] = {}
_POOLS_LOCK = threading.Lock()
_POOLS_PID = os.getpid()


def get_pool(workers: int) -> GradingPool:
    global _POOLS_PID
    with _POOLS_LOCK:
        if _POOLS_PID != os.getpid():  # a forked child: the inherited workers belong to the parent
            _POOLS.clear()
            _POOLS_PID = os.getpid()
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
