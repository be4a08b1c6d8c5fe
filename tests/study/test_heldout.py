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


class AnswerBackend:
    """Writes the reference in \\boxed{} on even samples and a wrong number on odd ones."""

    class tokenizer:  # noqa: N801  (no chat template: the prompt is the user message)
        chat_template = None

    def __init__(self, references: dict[str, str]) -> None:
        self.references = references

    def generate(self, requests, sampling):
        from hicra.eval.backends import Completion

        def text(key):
            return f"so the answer is \\boxed{{{self.references[key[0]] if key[1] % 2 == 0 else -7}}}"

        yield [Completion(r.key, text(r.key), 9, True) for r in requests]


def test_heldout_completions_are_graded_by_the_training_reward(tmp_path):
    from hicra.eval.runner import EvalConfig, evaluate_problems
    from hicra.study.heldout import reward_grader

    held = heldout_problems(_values(), StudyConfig(heldout_size=6))
    problems = to_eval_problems(held)
    config = EvalConfig(output=str(tmp_path), instruction="", max_tokens=16)
    backend = AnswerBackend({p.id: p.reference for p in problems})
    score, _, generated, _ = evaluate_problems("heldout", problems, 2, config, backend,
                                               grade=reward_grader(held, _values()), title="Held-out")
    assert (score.title, score.pass_at_1, score.problems, generated) == ("Held-out", 50.0, 6, 12)
    graded = [json.loads(line) for line in (tmp_path / "graded" / "heldout.jsonl").read_text().splitlines()]
    assert [g["correct"] for g in graded] == [True, False] * 6
    assert all(g["reward"] == pytest.approx(1.1) for g in graded[::2])  # correctness 1 + format 0.1
