"""Stage a: successful solutions from rollouts or plain corpora, sampling across steps, bad inputs."""

import json
from collections import Counter

import pytest

from hicra.cli import main
from hicra.config import ConfigError
from hicra.mining.config import MineConfig, MiningError
from hicra.mining.corpus import CorpusError, load_corpus, sample_across_steps


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def rollout(step, text, reward, correct=None):
    rec = {"step": step, "prompt_id": f"p{step}", "completion": text, "reward": reward}
    if correct is not None:
        rec["correct"] = correct
    return rec


def test_plain_corpus_counts_every_solution_as_successful(math500_path):
    corpus = load_corpus(MineConfig(rollouts=str(math500_path)))
    assert corpus.text_field == "solution"
    assert corpus.counts["records read"] == 500 and corpus.counts["successful"] == 500
    assert len(corpus.texts) == corpus.counts["solutions mined"] == 500
    assert corpus.texts[0].startswith("We have that $r =")


def test_success_uses_correct_then_reward_threshold(tmp_path, math500_solutions):
    texts = math500_solutions[:6]
    rows = [rollout(0, texts[0], 1.0, True), rollout(0, texts[1], 1.0, False), rollout(1, texts[2], 0.2, True)]
    run = tmp_path / "run"
    run.mkdir()
    write_jsonl(run / "rollouts.jsonl", rows)
    assert load_corpus(MineConfig(rollouts=str(run))).texts == [texts[0], texts[2]]  # auto → 'correct'
    by_reward = load_corpus(MineConfig(rollouts=str(run), success="reward", min_reward=0.5))
    assert by_reward.texts == [texts[0], texts[1]]
    assert len(load_corpus(MineConfig(rollouts=str(run), success="all")).texts) == 3
    only_reward = write_jsonl(tmp_path / "r.jsonl", [rollout(0, t, r) for t, r in zip(texts[3:], (0.0, 1.0, 2.0))])
    assert load_corpus(MineConfig(rollouts=str(only_reward))).texts == texts[4:6]  # auto → reward >= 1.0


def test_dedupe_and_sampling_spread_across_steps(tmp_path, math500_solutions):
    rows = [rollout(0, math500_solutions[i], 1.0) for i in range(5)]
    rows += [rollout(1, math500_solutions[i], 1.0) for i in range(5, 15)]
    rows += [rollout(2, math500_solutions[i], 1.0) for i in range(15, 115)]
    rows.append(rollout(2, math500_solutions[20], 1.0))  # an exact duplicate
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    corpus = load_corpus(MineConfig(rollouts=str(path), max_solutions=30, seed=1))
    assert corpus.counts["successful"] == 116 and corpus.counts["after de-duplication"] == 115
    assert Counter(corpus.steps) == {0: 5, 1: 10, 2: 15}  # small steps give all they have, the rest fills up
    again = load_corpus(MineConfig(rollouts=str(path), max_solutions=30, seed=1))
    assert again.texts == corpus.texts
    items = [(s, str(i)) for i, s in enumerate([0] * 50 + [1] * 50 + [2] * 50)]
    assert Counter(s for s, _ in sample_across_steps(items, 30, seed=0)) == {0: 10, 1: 10, 2: 10}


@pytest.mark.parametrize("rows, cfg, message", [
    ([], {}, "r.jsonl: no records (the corpus is empty)"),
    ([rollout(0, "a", 0.0), rollout(1, "b", 0.5)], {}, "none of the 2 records is successful"),
    ([rollout(0, "a", 1.0), {"step": 1, "reward": 1.0}], {}, "r.jsonl:2: missing field 'completion'"),
    ([{"solution": "a"}, {"text": "b"}], {}, "r.jsonl:2: missing field 'solution'"),
    ([{"body": "a"}], {}, "r.jsonl:1: none of the fields completion, solution, text is present"),
    ([{"solution": "a"}], {"text_field": "answer"}, "r.jsonl:1: missing field 'answer'"),
    ([{"solution": 3}], {}, "r.jsonl:1: field 'solution' must be a string"),
    ([{"solution": "a"}], {"success": "correct"}, "r.jsonl:1: missing field 'correct'"),
    ([rollout(0, "a", "high")], {}, "r.jsonl:1: field 'reward' must be a number"),
    ([rollout(0, "a", 1.0), rollout(1, "b", float("nan"))], {}, "r.jsonl:2: field 'reward': NaN is not a finite number"),
    ([rollout(0, "a", float("inf"))], {}, "r.jsonl:1: field 'reward': Infinity is not a finite number"),
    ([{**rollout(0, "a", 1.0), "correct": "yes"}], {}, "r.jsonl:1: field 'correct' must be true or false"),
])
def test_bad_inputs_fail_with_one_clear_line(tmp_path, rows, cfg, message):
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    with pytest.raises(CorpusError) as err:
        load_corpus(MineConfig(rollouts=str(path), **cfg))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)


def test_invalid_json_and_missing_file(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"solution": "a"}\n{oops\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"r\.jsonl:2: invalid JSON"):
        load_corpus(MineConfig(rollouts=str(path)))
    with pytest.raises(CorpusError, match="no such file"):
        load_corpus(MineConfig(rollouts=str(tmp_path / "missing")))


def test_bad_options_are_rejected():
    with pytest.raises(MiningError, match="min_n"):
        MineConfig(min_n=4, max_n=3)
    with pytest.raises(ConfigError, match="max_mean_count"):
        MineConfig(max_mean_count=0.5)
    with pytest.raises(MiningError, match="llm_model"):
        MineConfig(llm_base_url="http://127.0.0.1:1/v1")


def test_cli_prints_bad_input_as_one_line(tmp_path, capsys):
    path = write_jsonl(tmp_path / "r.jsonl", [rollout(0, "a", 0.0)])
    assert main(["mine", "--rollouts", str(path), "--output", str(tmp_path / "x.json")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("hicra mine: error: ") and "none of the 1 records is successful" in err
    assert len(err.splitlines()) == 1
