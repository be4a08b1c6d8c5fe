"""A study killed (SIGKILL) after its first checkpoint and restarted loses and duplicates no rollout line."""

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


def test_killed_study_resumes_without_lost_or_duplicated_lines(study_argv, tmp_path):
    out = tmp_path / "study"
    argv = [*study_argv(out, **{"max-steps": "8", "heldout-size": "2"}),
            "--methods", "hicra", "--seeds", "0", "--no-analyze"]
    first = out / "runs" / "hicra-s0"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "hicra.cli", *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (first / "checkpoint-1" / "trainer_state.json").is_file():
            assert proc.poll() is None, "the study ended before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not (first / "done.json").exists()  # killed mid-run

    assert main(argv) == 0
    for run in (first,):
        assert json.loads((run / "done.json").read_text())["steps"] == 8
        rows = [json.loads(line) for line in (run / "rollouts.jsonl").read_text().splitlines()]
        assert Counter(r["step"] for r in rows) == {step: 4 for step in range(8)}  # 2 prompts × 2 samples per step
        steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert steps == list(range(1, 9))
    assert json.loads((first / "done.json").read_text())["resumed"] is True
