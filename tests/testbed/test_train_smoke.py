"""A 3-step testbed training run through ``hicra train`` (the trainer real models use), the oracle planning source,
and the testbed's bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from badinput import assert_clean_failure, run_cli

from hicra.testbed.warmstart import MARKER

TESTBED_KEYS = ("testbed/strategy_accuracy", "testbed/execution_accuracy", "testbed/backtrack_recall",
                "testbed/backtrack_precision", "testbed/pass@1", "testbed/parseable")
SMALL = ["--max-steps", "3", "--dataset-size", "32", "--per-device-train-batch-size", "16", "--num-generations", "4",
         "--max-completion-length", "48", "--torch-threads", "1", "--save-strategy", "no"]


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_three_testbed_steps_log_the_testbed_metrics(toy_policy_dir, tmp_path, capsys):
    run = tmp_path / "run"
    status = run_cli(["train", "--preset", "testbed", "--model", str(toy_policy_dir), "--output-dir", str(run),
                      *SMALL], tmp_path)
    assert status == 0
    table = capsys.readouterr().out  # the final summary shows the reward's summary_keys that have values
    assert "strategy accuracy" in table and "pass@1" in table
    metrics = rows(run / "metrics.jsonl")
    assert [m["step"] for m in metrics] == [1, 2, 3]
    for m in metrics:
        for key in TESTBED_KEYS:
            assert key in m and (m[key] is None or 0.0 <= m[key] <= 1.0), (key, m.get(key))
        assert m["testbed/parseable"] is not None and m["testbed/pass@1"] is not None
    rollouts = rows(run / "rollouts.jsonl")
    assert len(rollouts) == 3 * 16 and all(r["task"] == "testbed:1" for r in rollouts)
    assert all(r["reward"] in (0.0, 1.0) for r in rollouts)  # binary, no shaping


def test_oracle_planning_source_puts_the_ground_truth_spans_in_the_mask(toy_policy_dir, tmp_path):
    from hicra.models import load_tokenizer
    from hicra.testbed.oracle import OracleTagger

    run = tmp_path / "run"
    argv = ["train", "--preset", "testbed", "--model", str(toy_policy_dir), "--output-dir", str(run),
            "--planning-source", "oracle", *SMALL, "--max-steps", "1"]
    assert run_cli(argv, tmp_path) == 0
    rollouts = rows(run / "rollouts.jsonl")
    tagged = OracleTagger(load_tokenizer(str(toy_policy_dir))).tag_ids([r["completion_ids"] for r in rollouts])
    for r, t in zip(rollouts, tagged):
        np.testing.assert_array_equal(np.asarray(r["planning"], dtype=bool), t.planning)


def test_an_unknown_level_is_one_line(tmp_path, capsys):
    assert_clean_failure(["train", "--preset", "testbed", "--dataset", "testbed:9", "--output-dir", "run"], tmp_path,
                         capsys, ["unknown testbed level '9'"])
    assert_clean_failure(["testbed", "warmstart", "--dataset", "testbed:0", "--output", "ws"], tmp_path, capsys,
                         ["unknown testbed level '0'"])


def test_a_missing_or_foreign_warm_start_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HICRA_HOME", str(tmp_path / "home"))
    assert_clean_failure(["train", "--preset", "testbed", "--output-dir", "run"], tmp_path, capsys,
                         ["no warm start there", "hicra testbed warmstart"])
    (tmp_path / "home" / "models" / "testbed").mkdir(parents=True)
    (tmp_path / "home" / "models" / "testbed" / "notes.txt").write_text("x")
    assert_clean_failure(["train", "--preset", "testbed", "--output-dir", "run"], tmp_path, capsys,
                         ["not a warm-start directory"])
    assert_clean_failure(["testbed", "warmstart", "--output", "home/models/testbed"], tmp_path, capsys,
                         ["not a warm-start directory"])


def test_failing_gates_stop_with_the_numbers_and_keep_the_model(tmp_path, capsys):
    line = assert_clean_failure(["testbed", "warmstart", "--output", "ws", "--traces", "64", "--epochs", "1",
                                 "--gate-samples", "8", "--torch-threads", "1"], tmp_path, capsys,
                                ["warm-start gate failed", "parseable = "], new_files=True)
    assert "ws.partial" in line
    assert not (tmp_path / "ws").exists() and (tmp_path / "ws.partial" / "config.json").is_file()
    gates = json.loads((tmp_path / "ws.partial" / "gates.json").read_text())["gates"]
    assert any(not g["passed"] for g in gates) and not (tmp_path / "ws.partial" / MARKER).exists()


def test_a_finished_warm_start_is_reused(toy_policy_dir, tmp_path, capsys):
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(toy_policy_dir, ws)
    (ws / MARKER).write_text(json.dumps({"parameters": 1000, "sft_seconds": 1.0, "total_seconds": 2.0}))
    before = sorted(p.name for p in ws.iterdir())
    assert run_cli(["testbed", "warmstart", "--output", str(ws)], tmp_path) == 0
    assert "reused" in capsys.readouterr().out and sorted(p.name for p in ws.iterdir()) == before


def test_reward_shaping_on_the_testbed_is_one_line(toy_policy_dir, tmp_path, capsys):
    assert_clean_failure(["train", "--preset", "testbed", "--model", str(toy_policy_dir), "--format-reward", "0.1",
                          "--output-dir", "run"], tmp_path, capsys, ["testbed reward is binary"])
