"""Held-out problems: same distribution as training, never a training problem."""

from __future__ import annotations

import json

import pytest

from hicra.data import load_problems
from hicra.study.config import StudyConfig
from hicra.study.heldout import heldout_problems, to_eval_problems

TEMPLATE = "{problem}\nAnswer in \\boxed{}."


def _values(**changes):
    return {"dataset": "gym:basic_arithmetic,chain_sum", "dataset_size": 64, "dataset_seed": 3,
            "dataset_split": "train",
            "gym_difficulty": 0, "gym_options": {}, "prompt_template": TEMPLATE, "system_prompt": "", **changes}


def test_gym_heldout_uses_another_seed_and_skips_training_problems():
    values = _values()
    held = heldout_problems(values, StudyConfig(heldout_size=40))
    train = load_problems(values["dataset"], size=64, seed=3, template=TEMPLATE)
    texts = {r["prompt"][-1]["content"] for r in train.rows}
    assert len(held.rows) == 40 and not texts & {r["prompt"][-1]["content"] for r in held.rows}
    assert {r["task"] for r in held.rows} == {"basic_arithmetic", "chain_sum"}
    assert set(held.gym) == {"basic_arithmetic", "chain_sum"}  # the task scorers grade them
    again = heldout_problems(values, StudyConfig(heldout_size=40))
    assert [r["prompt"] for r in again.rows] == [r["prompt"] for r in held.rows]  # deterministic
    problems = to_eval_problems(held)
    assert problems[0].prompt.endswith("Answer in \\boxed{}.") and problems[0].meta["task"] == "basic_arithmetic"


def test_file_heldout_takes_the_rows_after_training(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps({"problem": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n"
                            for i in range(10)))
    held = heldout_problems(_values(dataset=str(path), dataset_size=6), StudyConfig(heldout_size=3))
    assert [r["answer"] for r in held.rows] == ["7", "8", "9"]
    with pytest.raises(ValueError, match="dataset_size 0"):
        heldout_problems(_values(dataset=str(path), dataset_size=0), StudyConfig(heldout_size=3))
    other = tmp_path / "test.jsonl"
    other.write_text(json.dumps({"question": "What is 0 + 1?", "answer": "1"}) + "\n"  # a training problem
                     + json.dumps({"question": "What is 100 + 1?", "answer": "101"}) + "\n")
    assert [r["answer"] for r in heldout_problems(_values(dataset=str(path), dataset_size=6),
                                                  StudyConfig(heldout_dataset=str(other))).rows] == ["101"]
