"""Training problems (reasoning-gym, files, hub), rewards on the shared grader, and the metric helpers."""

from __future__ import annotations

import json
import math

import pytest
import torch

from hicra.data import load_problems, make_prompt
from hicra.rewards import SAFE_GYM_SCORERS, AnswerReward, last_number
from hicra.engine.metrics import outcome_metrics, semantic_entropy, token_metrics, token_sums


def test_gym_mix_is_interleaved_seeded_and_at_the_requested_difficulty():
    a = load_problems("gym:basic_arithmetic,chain_sum", size=6, seed=3, difficulty=0)
    b = load_problems("gym:basic_arithmetic,chain_sum", size=6, seed=3, difficulty=0)
    assert a.rows == b.rows and len(a) == 6
    assert [r["task"] for r in a.rows] == ["basic_arithmetic", "chain_sum"] * 3
    assert [r["prompt_id"] for r in a.rows[:2]] == ["basic_arithmetic/0", "chain_sum/0"]
    for row in a.rows:
        entry = json.loads(row["gym_entry"])
        assert entry["answer"] == row["answer"] and entry["metadata"]["num_terms"] == 2  # level 0: two terms
        assert "\\boxed{" in row["prompt"][-1]["content"] and entry["question"] in row["prompt"][-1]["content"]
    harder = load_problems("gym:chain_sum", size=4, seed=3, difficulty=3)
    assert all(json.loads(r["gym_entry"])["metadata"]["num_terms"] >= 2 for r in harder.rows)


def test_gym_options_and_errors():
    p = load_problems("gym:basic_arithmetic", size=8, gym_options={"basic_arithmetic": {"operators": ["*"]}})
    assert all("*" in json.loads(r["gym_entry"])["metadata"]["expression"] for r in p.rows)
    with pytest.raises(ValueError, match="unknown reasoning-gym task"):
        load_problems("gym:no_such_task", size=2)
    with pytest.raises(ValueError, match="unknown field 'bogus'"):
        load_problems("gym:chain_sum", size=2, gym_options={"chain_sum": {"bogus": 1}})


def test_local_files_gsm8k_math500_minerva(shared_dir, tmp_path):
    gsm = load_problems(str(shared_dir / "benchmarks/gsm8k/test.jsonl"), size=3)
    assert len(gsm) == 3 and gsm.rows[0]["answer"] == "18" and gsm.rows[0]["task"] == "gsm8k"
    math500 = load_problems(str(shared_dir / "benchmarks/math500/test.jsonl"), size=2)
    assert "\\pi" in math500.rows[0]["answer"]
    minerva = load_problems(str(shared_dir / "benchmarks/minerva_math/test.jsonl"), size=1)
    assert minerva.rows[0]["answer"] and "\\boxed" not in minerva.rows[0]["answer"]
    custom = tmp_path / "mine.jsonl"
    custom.write_text(json.dumps({"q": "What is 2+2?", "a": 4}) + "\n")
    rows = load_problems(str(custom), problem_field="q", answer_field="a").rows
    assert rows[0]["answer"] == "4" and rows[0]["prompt"][-1]["content"].startswith("What is 2+2?")
    with pytest.raises(ValueError, match="no reference answer"):
        load_problems(str(custom), problem_field="q")


def test_parquet_files_load(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "train.parquet"
    pq.write_table(pa.table({"problem": ["1+2?", "2+2?"], "answer": ["3", "4"]}), path)
    p = load_problems(str(path))
    assert [r["answer"] for r in p.rows] == ["3", "4"] and p.rows[1]["prompt_id"].endswith("/1")


def test_hub_ids_go_through_datasets_load_dataset(monkeypatch):
    import datasets

    calls = []

    def fake_load_dataset(name, config=None, split=None):
        calls.append((name, config, split))
        return [{"question": "1+1?", "answer": "so #### 2"}]

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    p = load_problems("openai/gsm8k", config="main", split="train")
    assert calls == [("openai/gsm8k", "main", "train")] and p.rows[0]["answer"] == "2"


def test_prompt_uses_a_system_message_only_when_given():
    assert make_prompt("2+2?") == [{"role": "user", "content": make_prompt("2+2?")[0]["content"]}]
    assert make_prompt("2+2?", system_prompt="Be brief.")[0] == {"role": "system", "content": "Be brief."}
    with pytest.raises(ValueError, match="{problem}"):
        make_prompt("x", template="no placeholder")


def test_reward_parts_and_strict_correctness():
    p = load_problems("gym:chain_sum", size=1, seed=0)
    row = p.rows[0]
    reward = AnswerReward(p.gym)
    texts = [f"so \\boxed{{{row['answer']}}}", f"I get 3 and then {row['answer']}", "\\boxed{12345}", "no idea"]
    values = reward(None, [[{"role": "assistant", "content": t}] for t in texts], [row["answer"]] * 4,
                    [row["task"]] * 4, [row["gym_entry"]] * 4)
    assert values == pytest.approx([1.1, 0.5, 0.1, 0.0])
    assert [s.correct for s in reward.last] == [True, False, False, False]
    assert last_number("a 1,200 and -3.5.") == "-3.5"


def test_unlisted_gym_tasks_are_graded_by_math_verify_not_their_own_scorer():
    class Exploding:
        def score_answer(self, answer, entry):
            raise AssertionError("an unaudited scorer must not see model output")

    assert "number_sorting" not in SAFE_GYM_SCORERS
    reward = AnswerReward({"number_sorting": Exploding()}, unboxed_reward=0.0, format_reward=0.0)
    entry = json.dumps({"question": "sort", "answer": "1, 2, 3"})
    assert reward(None, ["\\boxed{1, 2, 3}"], ["1, 2, 3"], ["number_sorting"], [entry]) == [1.0]


def test_model_output_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    text = f"\\boxed{{__import__('os').system('touch {marker}')}}"
    reward = AnswerReward(load_problems("gym:basic_arithmetic", size=1).gym)
    for task in ("basic_arithmetic", ""):
        value = reward(None, [text], ["3"], [task], [json.dumps({"answer": "3"}) if task else ""])[0]
        assert value < 0.5 and not reward.last[0].correct
    assert not marker.exists()


def test_metric_helpers_on_a_hand_example():
    assert math.isnan(semantic_entropy([])) and semantic_entropy(["but wait"] * 3) == 0.0  # undefined ≠ 0
    assert semantic_entropy(["a", "b", "a", "b"]) == pytest.approx(math.log(2))
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    planning = torch.tensor([[1, 0, 0, 0], [0, 1, 0, 1]], dtype=torch.bool)
    adv = torch.tensor([[1.2, 1.0, 1.0, 1.0], [-2.0, -1.6, 0.0, 0.0]])
    ent = torch.tensor([[2.0, 1.0, 1.0, 9.0], [3.0, 4.0, 9.0, 9.0]])
    logps = -ent / 2
    sums = token_sums(mask, planning, planning, adv, ent, logps)
    m = token_metrics(sums, have_stats=True)
    assert m["hicra/planning_ratio"] == pytest.approx(2 / 5)
    assert m["hicra/adv_planning"] == pytest.approx((1.2 - 1.6) / 2)
    assert m["hicra/adv_execution"] == pytest.approx((1.0 + 1.0 - 2.0) / 3)
    assert m["hicra/entropy_planning"] == pytest.approx(3.0) and m["hicra/nll_execution"] == pytest.approx(2.5 / 3)
    out = outcome_metrics([1.0, 0.0, 0.5, 0.5], [True, False, False, False], ["g0", "g0", "g1", "g1"], [3, 4, 5, 6])
    assert out == {"hicra/accuracy": 0.25, "hicra/reward": 0.5, "hicra/groups_with_variance": 0.5, "hicra/length": 4.5}
