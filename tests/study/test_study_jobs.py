"""``hicra study --jobs 2``: two runs at once in child processes of one thread each, killed and resumed, and a failed
run reported in one line while the other finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from hicra.cli import main

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def test_two_concurrent_runs_killed_then_resumed(study_argv, tmp_path, capsys):
    out = tmp_path / "study"
    argv = [*study_argv(out, **{"max-steps": "6", "heldout-size": "2"}), "--seeds", "0", "--no-analyze",
            "--jobs", "2"]
    runs = [out / "runs" / "hicra-s0", out / "runs" / "grpo-s0"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "hicra.cli", *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:  # killed once both runs have a checkpoint (one of them may have finished by then)
        deadline = time.monotonic() + 240
        checkpointed: set[Path] = set()  # a run's first checkpoint may be rotated away before the other has one
        while len(checkpointed) < len(runs):
            checkpointed.update(run for run in runs if any(run.glob("checkpoint-*/trainer_state.json")))
            if len(checkpointed) == len(runs):
                break
            assert proc.poll() is None, "the study ended before both runs checkpointed"
            assert time.monotonic() < deadline, "no checkpoints within 240 s"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # the study and both children
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    lines = proc.stderr.read().decode().splitlines()
    proc.stderr.close()
    started = [i for i, line in enumerate(lines) if ": started (1 thread(s)" in line]
    finished = [i for i, line in enumerate(lines) if ": done in " in line]
    assert len(started) == 2 and all(i > started[1] for i in finished)  # both ran before either was done
    interrupted = [run for run in runs if not (run / "done.json").exists()]
    assert interrupted

    capsys.readouterr()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count(": started (1 thread(s)") == len(interrupted) and "2/2 done, 0 running" in err
    pids = set()
    for run in runs:
        done = json.loads((run / "done.json").read_text())
        assert done["steps"] == 6 and done["resumed"] is (run in interrupted)
        pids.add(done["pid"])
        rows = [json.loads(line) for line in (run / "rollouts.jsonl").read_text().splitlines()]
        assert Counter(r["step"] for r in rows) == {step: 4 for step in range(6)}  # nothing lost or duplicated
        log = (out / "logs" / f"{run.name}.log").read_text()
        assert log.count("=== ") == 2  # both attempts' output kept
        assert "1 torch thread(s), OMP_NUM_THREADS=1, MKL_NUM_THREADS=1" in log
    assert len(pids) == 2 and os.getpid() not in pids  # each run in its own child process
    doc = json.loads((out / "study.json").read_text())
    assert sorted(doc["summary"]) == ["grpo", "hicra"] and doc["contrasts"]["contrasts"][0]["b"] == "grpo"


def test_failed_run_is_one_line_and_the_other_finishes(study_argv, tmp_path, capsys):
    out = tmp_path / "study"
    argv = [*study_argv(out), "--seeds", "0", "--no-analyze", "--jobs", "2"]
    broken = out / "runs" / "grpo-s0"
    broken.mkdir(parents=True)
    (broken / "config.yaml").write_text("[not a run config\n")  # the run resumes from it and fails
    assert main(argv) == 1
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if "grpo-s0: failed" in line]
    assert len(failed) == 1 and "exit 1" in failed[0]
    last = err.strip().splitlines()[-1]
    assert last.startswith("hicra study: error: 1 of 2 run(s) failed (grpo-s0: ") and "rerun the study" in last
    assert json.loads((out / "runs" / "hicra-s0" / "done.json").read_text())["steps"] == 2
    assert not (broken / "done.json").exists() and (broken / "config.yaml").read_text() == "[not a run config\n"


def test_thread_counts_beyond_a_job_share_are_refused(study_argv, tmp_path, capsys):
    from hicra.study.parallel import available_cores

    jobs = max(2, available_cores())  # one thread per run: --torch-threads 2 oversubscribes
    assert main([*study_argv(tmp_path / "s", **{"torch-threads": "2"}), "--jobs", str(jobs)]) == 1
    assert f"--jobs {jobs} gives each run 1 of {jobs} cores, --torch-threads 2 asks more" in capsys.readouterr().err
    assert not (tmp_path / "s" / "study.yaml").exists()  # refused before anything is written
