"""``hicra study --launcher ray``: two tiny runs as Ray tasks on a local Ray with 2 CPUs."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from hicra.cli import main

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def test_ray_launcher_runs_each_run_as_a_task(study_argv, tiny_lexicon, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    # workers import hicra from this checkout, as the test process does
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        monkeypatch.chdir(tmp_path)  # after ray.init: relative training paths refer to the driver's directory
        shutil.copy(tiny_lexicon, "grams.txt")
        out = tmp_path / "study"
        argv = [*study_argv(Path("study"), lexicon="grams.txt"), "--seeds", "0", "--launcher", "ray",
                "--ray-num-cpus", "1", "--no-analyze"]
        assert main(argv) == 0
        pids = set()
        for name in ("hicra-s0", "grpo-s0"):
            done = json.loads((out / "runs" / name / "done.json").read_text())
            assert done["steps"] == 2
            pids.add(done["pid"])
        assert os.getpid() not in pids  # trained in Ray workers, not in this process
        assert json.loads((out / "study.json").read_text())["differences"]["grpo"]["heldout/pass@1"]["n"] == 1
    finally:
        ray.shutdown()
