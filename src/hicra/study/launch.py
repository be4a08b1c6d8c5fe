"""Running the runs of a study: train (or resume, or skip), then evaluate, one run at a time or as Ray tasks.

A run is finished when ``RUN_DIR/done.json`` exists; it is written last, after ``hicra train`` returned and its
final model was found, so a study killed at any moment loses nothing: on restart, finished runs are skipped, a run
directory holding a run is continued with ``hicra train --resume`` (which drops the log lines written after its last
checkpoint, so no rollout line is lost or duplicated), and evaluations resume from their generation caches.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from hicra.io import read_json, write_json
from hicra.records import read_jsonl, read_run_config
from hicra.study.config import StudyConfig
from hicra.study.plan import DONE, RunSpec


def train_command(spec: RunSpec) -> str:
    """The shell-quoted ``hicra train`` command of a run (resume when its directory already holds a run)."""
    return shlex.join(["hicra", "train", *spec.argv()])


def train_run(spec: RunSpec) -> dict[str, Any]:
    """Train (or resume) one run through ``hicra train`` and write its ``done.json``; its content."""
    from hicra.cli import main
    from hicra.models import resolve_model_path

    run_dir = Path(spec.run_dir)
    argv = spec.argv()
    started = time.perf_counter()
    print(f"hicra study: {spec.name}: hicra train {shlex.join(argv)}", file=sys.stderr, flush=True)
    code = main(["train", *argv])
    _release_memory()
    if code != 0:
        raise RuntimeError(f"run {spec.name} failed (hicra train exit {code}); rerun the study to resume it")
    metrics = run_dir / "metrics.jsonl"
    rows = list(read_jsonl(metrics, ("step",))) if metrics.is_file() else []
    steps = rows[-1]["step"] if rows else 0
    done = {"method": spec.method, "seed": spec.seed, "steps": steps, "final_model": resolve_model_path(str(run_dir)),
            "command": shlex.join(["hicra", "train", *spec.fresh_argv()]),
            "resumed": argv[0] == "--resume", "host": platform.node(), "pid": os.getpid(),
            "seconds_this_session": round(time.perf_counter() - started, 1),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_json(run_dir / DONE, done, name=DONE)
    return done


def _release_memory() -> None:
    """Free the finished trainer's memory before the next run or the evaluation (GPU caches included)."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def execute_run(spec: RunSpec, study: StudyConfig, cwd: str | None = None) -> dict[str, Any]:
    """Everything one run needs: training unless finished, held-out evaluation, optional benchmarks.

    ``cwd``: the directory relative paths of the training flags refer to (a Ray worker starts elsewhere).
    """
    from hicra.study.heldout import evaluate_benchmarks, evaluate_heldout

    if cwd:
        os.chdir(cwd)
    run_dir = Path(spec.run_dir)
    if spec.done:
        print(f"hicra study: {spec.name}: finished, skipped", file=sys.stderr, flush=True)
    else:
        train_run(spec)
    values = read_run_config(run_dir)
    result = {"name": spec.name, "method": spec.method, "seed": spec.seed, "run_dir": spec.run_dir,
              "done": read_json(run_dir / DONE),
              "heldout": evaluate_heldout(run_dir, values, study)}
    if study.eval_benchmarks:
        result["benchmarks"] = evaluate_benchmarks(run_dir, values, study)["benchmarks"]
    return result


def launch_local(specs: Sequence[RunSpec], study: StudyConfig) -> list[dict[str, Any]]:
    """The runs one after another in this process."""
    results = []
    for number, spec in enumerate(specs, 1):
        print(f"hicra study: run {number}/{len(specs)}: {spec.name}", file=sys.stderr, flush=True)
        results.append(execute_run(spec, study))
    return results


def launch_ray(specs: Sequence[RunSpec], study: StudyConfig) -> list[dict[str, Any]]:
    """Each run as a Ray task declaring ``--ray-num-cpus``/``--ray-num-gpus``; joins ``--ray-address`` or the Ray
    already initialised in this process, else starts a local one. Run directories must be on a filesystem that
    every node sees (paths are absolute)."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("--launcher ray needs the ray package: pip install 'hicra[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=study.ray_address or None)
    task = ray.remote(num_cpus=study.ray_num_cpus, num_gpus=study.ray_num_gpus, max_retries=0)(execute_run)
    pending = {task.remote(spec, study, os.getcwd()): spec for spec in specs}
    results: dict[str, dict[str, Any]] = {}
    failures = []
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        spec = pending.pop(ready[0])
        try:
            results[spec.name] = ray.get(ready[0])
            print(f"hicra study: {spec.name}: done ({len(results)}/{len(specs)})", file=sys.stderr, flush=True)
        except ray.exceptions.RayTaskError as e:
            cause = e.cause if isinstance(getattr(e, "cause", None), Exception) else e
            failures.append(f"{spec.name}: {str(cause).splitlines()[0] if str(cause) else type(cause).__name__}")
    if failures:
        raise RuntimeError(f"{len(failures)} run(s) failed ({'; '.join(failures)}); rerun the study to resume them")
    return [results[s.name] for s in specs]
