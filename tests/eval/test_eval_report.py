"""Pass@1 ± standard error, the Table 1 markdown layout, result files and --compare."""

from __future__ import annotations

import csv
import json
import math

import pytest

from hicra.eval.report import average, compare, markdown_table, pass_at_1, score, write_results


def test_pass_at_1_is_mean_of_per_problem_accuracy_with_standard_error():
    mean, se = pass_at_1({"a": [True, True, False, False], "b": [True] * 4, "c": [False] * 4})
    accs = [0.5, 1.0, 0.0]
    sd = math.sqrt(sum((a - 0.5) ** 2 for a in accs) / 2)
    assert mean == pytest.approx(50.0) and se == pytest.approx(100 * sd / math.sqrt(3))
    assert pass_at_1({"a": [True]}) == (100.0, 0.0) and pass_at_1({}) == (0.0, 0.0)


def test_score_counts_rates():
    graded = [{"problem_id": "1", "correct": True, "answer": "3", "n_tokens": 10, "finished": True},
              {"problem_id": "1", "correct": False, "answer": None, "n_tokens": 30, "finished": False}]
    s = score("amc23", graded, samples=2)
    assert (s.title, s.pass_at_1, s.problems, s.generations) == ("AMC23", 50.0, 1, 2)
    assert (s.no_answer_rate, s.truncated_rate, s.mean_tokens) == (0.5, 0.5, 20.0)


def _results(aime, math500):
    return {"aime24": {"pass@1": aime[0], "stderr": aime[1], "samples": 32, "problems": 30},
            "math500": {"pass@1": math500[0], "stderr": math500[1], "samples": 1, "problems": 500}}


def test_markdown_table_follows_table_1_column_order():
    table = markdown_table([("GRPO", {"gsm8k": {"pass@1": 1, "stderr": 0, "samples": 1, "problems": 2},
                                      **_results((10.0, 2.0), (50.0, 1.0))})])
    lines = table.splitlines()
    assert lines[0] == "| Model | AIME24 | MATH500 | GSM8K | Avg. |"
    assert lines[2].startswith("| GRPO | 10.0 ± 2.0 | 50.0 ± 1.0 | 1.0 ± 0.0 | 20.3 ± ")
    assert lines[3] == "| samples × problems | 32 × 30 | 1 × 500 | 1 × 2 | |"


def test_write_results_and_compare(tmp_path):
    graded = [{"problem_id": str(i), "correct": i % 2 == 0, "answer": "1", "n_tokens": 5, "finished": True}
              for i in range(4)]
    for name, model in (("hicra", "run-h"), ("grpo", "run-g")):
        scores = [score("math500", graded, 1), score("aime24", graded[:2 if name == "hicra" else 1], 32)]
        doc = write_results(tmp_path / name, model, {"temperature": 0.6, "top_p": 0.95, "max_tokens": 8}, scores)
        assert list(doc["benchmarks"]) == ["aime24", "math500"]
    doc = json.loads((tmp_path / "hicra" / "results.json").read_text())
    assert doc["average"] == {"pass@1": pytest.approx(average([score("math500", graded, 1),
                                                               score("aime24", graded[:2], 32)])[0]),
                              "stderr": doc["average"]["stderr"]}
    rows = list(csv.DictReader((tmp_path / "hicra" / "results.csv").open()))
    assert [r["benchmark"] for r in rows] == ["aime24", "math500"] and rows[1]["pass@1"] == "50.0"
    assert "| run-h | 50.0 ± 50.0 | 50.0 ± 28.9 |" in (tmp_path / "hicra" / "results.md").read_text()
    table = compare(tmp_path / "hicra", tmp_path / "grpo", ["HICRA", "GRPO"])
    assert table.splitlines()[-1].startswith("| Δ (HICRA − GRPO) | -50.0 ± 50.0 | +0.0 ± 40.8 |")


def test_compare_errors_are_one_line(tmp_path):
    with pytest.raises(ValueError, match="results.json: no such file"):
        compare(tmp_path / "a", tmp_path / "b")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text("{broken")
    with pytest.raises(ValueError, match="invalid JSON"):
        compare(tmp_path / "a", tmp_path / "a")
