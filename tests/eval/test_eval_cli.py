"""Smoke tests of the real ``hicra eval`` / ``hicra grade`` commands."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hicra.cli import main

HICRA = [sys.executable, "-m", "hicra.cli"]


@pytest.mark.slow
def test_eval_runs_offline_end_to_end(tmp_path):
    out = tmp_path / "run"
    cmd = HICRA + ["eval", "--model", "smollm2", "--benchmarks", "math500,gsm8k", "--limit", "1", "--samples", "2",
                   "--max-tokens", "12", "--batch-size", "4", "--torch-threads", "1", "--output", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| Model | MATH500 | GSM8K | Avg. |" in proc.stdout
    doc = json.loads((out / "results.json").read_text())
    assert {b: (r["samples"], r["problems"]) for b, r in doc["benchmarks"].items()} == {"math500": (2, 1),
                                                                                        "gsm8k": (2, 1)}
    gens = [json.loads(x) for x in (out / "generations" / "gsm8k.jsonl").read_text().splitlines()]
    assert sorted(g["sample"] for g in gens) == [0, 1] and all(0 < g["n_tokens"] <= 12 for g in gens)
    assert (out / "results.csv").is_file() and (out / "results.md").is_file()


def test_grade_command_single_pair(capsys):
    assert main(["grade", "--pred", r"so \boxed{\dfrac{1}{2}}", "--gold", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out) == {"answer": r"\dfrac{1}{2}", "reference": "0.5", "correct": True}
    assert main(["grade", "--pred", "x = 3", "--gold", "4", "--no-extract"]) == 0
    assert json.loads(capsys.readouterr().out)["correct"] is False


def test_grade_command_files(tmp_path, capsys):
    preds = tmp_path / "preds.jsonl"
    preds.write_text("\n".join(json.dumps({"completion": rf"\boxed{{{a}}}", "answer": g})
                               for a, g in [("3", "3"), ("x=3", "3"), ("4", "3")]) + "\n")
    out = tmp_path / "verdicts.jsonl"
    assert main(["grade", "--pred", str(preds), "--output", str(out)]) == 0
    assert "graded 3: 2 correct (66.7%)" in capsys.readouterr().out
    assert [json.loads(x)["correct"] for x in out.read_text().splitlines()] == [True, True, False]
    golds = tmp_path / "golds.jsonl"
    golds.write_text('{"answer": "3"}\n')
    assert main(["grade", "--pred", str(preds), "--gold", str(golds)]) == 1
    assert "has 3 records but" in capsys.readouterr().err
    assert main(["grade", "--pred", str(preds), "--gold-field", "ref"]) == 1
    assert "preds.jsonl:1: missing field 'ref'" in capsys.readouterr().err
    assert main(["grade", "--pred", str(tmp_path / "missing.jsonl"), "--gold", "1"]) == 1
    assert "missing.jsonl: no such file" in capsys.readouterr().err


def test_compare_command(tmp_path, capsys):
    for name, value in (("a", 40.0), ("b", 30.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps({"model": name, "benchmarks": {
            "aime24": {"pass@1": value, "stderr": 3.0, "samples": 32, "problems": 30}}}))
    assert main(["eval", "--compare", str(tmp_path / "a"), str(tmp_path / "b"), "--labels", "HICRA,GRPO"]) == 0
    assert "| Δ (HICRA − GRPO) | +10.0 ± 4.2 | +10.0 ± 4.2 |" in capsys.readouterr().out
    assert main(["eval", "--compare", str(tmp_path / "a"), str(tmp_path / "b"), "--labels", "HICRA"]) == 1
