"""The run directory is never lost: non-empty output dirs need --resume/--overwrite, --overwrite replaces only after
the inputs loaded, a NaN/inf run stops before it saves NaN weights, an inexact resume says so."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from hicra.cli import main
from hicra.trl.config import HICRAConfig
from hicra.trl.guards import NonFiniteGuard
from hicra.trl.run import build_trainer, summarize


def _argv(values: dict) -> list[str]:
    argv = ["train"]
    for k, v in values.items():
        flag = "--" + k.replace("_", "-")
        argv += [flag] if v is True else [flag, str(v)]
    return argv


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_overwrite_replaces_the_old_run_files_after_loading_and_keeps_other_files(tiny_values, capsys):
    run = Path(tiny_values["output_dir"])
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"step": 99}\n')
    (run / "checkpoint-99").mkdir()
    (run / "notes.txt").write_text("mine\n")
    assert main(_argv(tiny_values)) == 1  # refused: not empty
    assert "is not empty" in capsys.readouterr().err
    assert main(_argv({**tiny_values, "lexicon": str(run / "missing.txt"), "overwrite": True})) == 1
    assert "missing.txt" in capsys.readouterr().err  # the lexicon failed to load: nothing was removed yet
    assert (run / "metrics.jsonl").read_text() == '{"step": 99}\n' and (run / "checkpoint-99").is_dir()
    assert main(_argv({**tiny_values, "overwrite": True})) == 0
    assert "removed checkpoint-99, metrics.jsonl" in capsys.readouterr().err
    assert [r["step"] for r in _rows(run / "metrics.jsonl")] == [1, 2]
    assert not (run / "checkpoint-99").exists() and (run / "notes.txt").read_text() == "mine\n"


def test_an_infinite_reward_stops_the_run_before_its_step_is_checkpointed(tiny_values, tmp_path):
    data = tmp_path / "problems.jsonl"
    data.write_text("".join(json.dumps({"problem": f"What is {i} + {i}?", "answer": str(2 * i)}) + "\n"
                            for i in range(8)))
    calls = []

    def inf_from_the_second_batch(prompts, completions, **_):  # a real reward function that misbehaves
        calls.append(len(completions))
        return [0.0 if len(calls) == 1 else math.inf] * len(completions)

    config = HICRAConfig(**{**tiny_values, "dataset": str(data), "max_steps": 3, "save_strategy": "steps",
                            "save_steps": 1})
    run = Path(config.output_dir)
    trainer = build_trainer(config, callbacks=[NonFiniteGuard()], extra_rewards=[inf_from_the_second_batch])
    stopped = r"step 2: logged \S*reward\S* is inf.*last good checkpoint is .*checkpoint-1"
    with pytest.raises(RuntimeError, match=stopped):
        trainer.train()
    assert (run / "checkpoint-1").is_dir() and not (run / "checkpoint-2").exists()
    assert [r["step"] for r in _rows(run / "metrics.jsonl")] == [1]
    from safetensors.torch import load_file

    weights = load_file(str(run / "checkpoint-1" / "model.safetensors"))
    assert all(bool(torch.isfinite(w).all()) for w in weights.values())


def test_resume_from_a_model_only_checkpoint_warns_that_numbers_differ(tiny_values, capsys):
    values = {**tiny_values, "save_strategy": "steps", "save_steps": 1, "save_only_model": True}
    assert main(_argv(values)) == 0
    capsys.readouterr()
    assert main(_argv({**values, "max_steps": 3, "resume": values["output_dir"]})) == 0
    err = capsys.readouterr().err
    assert "holds no optimizer/scheduler/RNG state" in err and "differ from an uninterrupted run" in err


def test_summary_last_step_column_is_the_last_steps_value(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "loss": 0.5}\n{"step": 2, "loss": null}\n')
    table = summarize(tmp_path, 1.0)["metrics"]["loss"]
    assert table == {"first": 0.5, "last": None, "mean": 0.5}


def test_guard_checks_the_weights_every_step_whatever_the_logging(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, TrainerControl, TrainerState

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    args = HICRAConfig(output_dir=str(tmp_path), logging_steps=10)
    state, guard = TrainerState(global_step=3), NonFiniteGuard()
    guard.on_step_end(args, state, TrainerControl(), model=model)  # finite: nothing happens
    with torch.no_grad():
        model.lm_head.weight[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match=r"step 3: non-finite weights in lm_head.weight .*no checkpoint was saved"):
        guard.on_step_end(args, state, TrainerControl(), model=model)


def test_resuming_a_run_whose_checkpoint_is_at_max_steps_trains_nothing(tiny_values, capsys):
    """A study killed between a run's last checkpoint and its ``done.json`` resumes it; transformers itself would
    train one step past ``max_steps`` from such a checkpoint."""
    values = {**tiny_values, "save_strategy": "steps", "save_steps": 1}
    run = Path(values["output_dir"])
    assert main(_argv(values)) == 0
    before = (run / "metrics.jsonl").read_text(), (run / "rollouts.jsonl").read_text()
    capsys.readouterr()
    assert main(["train", "--resume", str(run)]) == 0
    assert "is at max_steps (2): nothing left to train" in capsys.readouterr().err
    assert ((run / "metrics.jsonl").read_text(), (run / "rollouts.jsonl").read_text()) == before
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
