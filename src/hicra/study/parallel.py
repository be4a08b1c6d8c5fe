"""Runs of a study side by side on this machine (``hicra study --jobs N``).

Each run is a child process (``python -m hicra.study.parallel``) doing exactly what the in-process launcher does
(:func:`hicra.study.launch.execute_run`: train, resume or skip, then evaluate) with cores/N threads: ``OMP_NUM_THREADS``
and ``MKL_NUM_THREADS`` in its environment and ``torch.set_num_threads``. A small model is bound by Python overhead,
so N one-thread runs use the cores better than one run with N threads. A child's output is appended to
``OUTPUT/logs/RUN.log`` and this process prints one line when a run starts, finishes or fails. A failed run does not
stop the others; the study ends with one line naming the failed runs, and rerunning it resumes them from their last
checkpoint, like any interrupted run (``done.json`` is still written last, by the child).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Sequence

from hicra.io import read_json, write_json
from hicra.study.config import StudyConfig
from hicra.study.plan import RunSpec

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
POLL_SECONDS = 0.2


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run_threads(jobs: int, torch_threads: int, eval_threads: int) -> int:
    """Threads of each of ``jobs`` concurrent runs: cores // jobs (at least 1); refuses explicit thread counts above
    it (``--torch-threads``, ``--eval-threads``), which would oversubscribe the cores."""
    cores = available_cores()
    threads = max(1, cores // jobs)
    for flag, asked in (("--torch-threads", torch_threads), ("--eval-threads", eval_threads)):
        if asked > threads:
            raise ValueError(f"--jobs {jobs} gives each run {threads} of {cores} cores, {flag} {asked} asks more; "
                             f"set it to {threads} or 0")
    return threads


@dataclass
class _Child:
    spec: RunSpec
    proc: subprocess.Popen
    log: Path
    log_file: IO[bytes]
    result: Path
    started: float


def _start(spec: RunSpec, study: StudyConfig, threads: int, tmp: Path, log_dir: Path) -> _Child:
    import hicra

    request, result = tmp / f"{spec.name}.request.json", tmp / f"{spec.name}.result.json"
    write_json(request, {"spec": asdict(spec), "study": asdict(study), "threads": threads, "parent": os.getpid()},
               name="run request")
    source = str(Path(hicra.__file__).resolve().parents[1])  # the hicra this process runs, for the child too
    env = {**os.environ, **{k: str(threads) for k in THREAD_ENV}, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p)}
    log = log_dir / f"{spec.name}.log"
    log_file = log.open("ab")
    log_file.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {spec.name}: {threads} thread(s)\n".encode())
    log_file.flush()
    proc = subprocess.Popen([sys.executable, "-m", "hicra.study.parallel", str(request), str(result)], env=env,
                            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
    return _Child(spec, proc, log, log_file, result, time.perf_counter())


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def launch_parallel(specs: Sequence[RunSpec], study: StudyConfig, threads: int, log_dir: Path) -> list[dict[str, Any]]:
    """Up to ``study.jobs`` runs at once, each in a child process with ``threads`` threads; results in spec order."""
    log_dir.mkdir(parents=True, exist_ok=True)
    queue = list(enumerate(specs, 1))
    running: list[_Child] = []
    results: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hicra-study-") as tmp:
        try:
            while queue or running:
                while queue and len(running) < study.jobs:
                    number, spec = queue.pop(0)
                    child = _start(spec, study, threads, Path(tmp), log_dir)
                    running.append(child)
                    state = "finished, evaluating" if spec.done else "started"
                    print(f"hicra study: run {number}/{len(specs)}: {spec.name}: {state} ({threads} thread(s), "
                          f"log {child.log})", file=sys.stderr, flush=True)
                time.sleep(POLL_SECONDS)
                for child in [c for c in running if c.proc.poll() is not None]:
                    running.remove(child)
                    child.log_file.close()
                    name, code = child.spec.name, child.proc.returncode
                    if code == 0:
                        results[name] = read_json(child.result)
                        print(f"hicra study: {name}: done in {time.perf_counter() - child.started:.0f} s "
                              f"({len(results)}/{len(specs)} done, {len(running)} running)", file=sys.stderr,
                              flush=True)
                    else:
                        failures.append(f"{name}: {_last_line(child.log)}")
                        print(f"hicra study: {name}: failed (exit {code}): {_last_line(child.log)} (log {child.log})",
                              file=sys.stderr, flush=True)
        finally:  # interrupted: stop the children (each keeps its checkpoints) before the temp dir goes
            for child in running:
                child.proc.terminate()
            for child in running:
                child.proc.wait()
                child.log_file.close()
    if failures:
        raise RuntimeError(f"{len(failures)} of {len(specs)} run(s) failed ({'; '.join(failures)}); "
                           "rerun the study to resume them")
    return [results[s.name] for s in specs]


def _exit_with_parent(parent: int) -> None:
    """End this child as soon as the study process is gone (killed at once, say), so that no orphaned run goes on
    writing into a run directory that a rerun of the study resumes; its checkpoints stay."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    """Child process: one run of a study (request and result paths as arguments)."""
    request_path, result_path = argv if argv is not None else sys.argv[1:]
    request = read_json(request_path)
    _exit_with_parent(int(request["parent"]))
    import torch

    from hicra.study.launch import execute_run
    from hicra.trl.cli import _quiet

    torch.set_num_threads(int(request["threads"]))
    _quiet()
    spec = RunSpec(**{**request["spec"], "train_argv": tuple(request["spec"]["train_argv"])})
    print(f"hicra study: {spec.name}: pid {os.getpid()}, {torch.get_num_threads()} torch thread(s), "
          + ", ".join(f"{k}={os.environ.get(k)}" for k in THREAD_ENV), file=sys.stderr, flush=True)
    try:
        result = execute_run(spec, StudyConfig(**request["study"]))
    except (ValueError, OSError, RuntimeError) as e:
        print(f"hicra study: {spec.name}: error: {e}", file=sys.stderr)
        return 1
    write_json(result_path, result, name="run result")  # complete or absent: the parent never reads half a result
    return 0


if __name__ == "__main__":
    sys.exit(main())
