"""Rollouts hicra did not write: verl's rollout dumps and mapped JSONL through analyze, report and mine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hicra.cli import main
from hicra.importers import import_rollouts, parse_field_map
from hicra.records import RecordError, read_rollouts

DUMP = Path(__file__).resolve().parent / "data" / "verl_dump"  # written by verl 0.9.1 (tests/verl/dump_fixture.py)


@pytest.fixture(autouse=True)
def hicra_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HICRA_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_verl_dump_becomes_rollout_records(hicra_home):
    run = import_rollouts(DUMP)
    assert run.name == "verl_dump" and hicra_home in run.parents
    recs = read_rollouts(run)
    assert len(recs) == 16 and [r["step"] for r in recs] == [0] * 8 + [1] * 8  # verl counts steps from 1
    first = recs[0]
    assert first["completion"].startswith("12 + 30 = 42. But wait") and first["reward"] == 1.0
    assert first["correct"] is True and first["answer"] == "42" and first["prompt"].startswith("<|im_start|>user")
    assert len({r["group_id"] for r in recs}) == 4  # same input in the same step
    assert all(r["group_id"] == f"{r['step']}-{r['prompt_id']}" for r in recs)
    assert import_rollouts(DUMP) == run  # converted once, reused
    assert import_rollouts(run) == run  # hicra's own run directories pass through


def test_analyze_and_report_read_a_verl_dump(tmp_path, capsys):
    out = tmp_path / "analysis"
    assert main(["analyze", str(DUMP), "--output", str(out), "--tokenizer", "smollm2", "--pass-k", "1,4"]) == 0
    rows = json.loads((out / "metrics.json").read_text())
    rows = rows["metrics"]
    assert [r["step"] for r in rows] == [0, 1]
    assert [r["accuracy"] for r in rows] == [0.5, 0.75]
    assert [r["n_completions"] for r in rows] == [8, 8]
    assert rows[0]["pass_at_4"] == 1.0 and rows[1]["pass_at_1"] == 0.75
    assert all(0 < r["planning_ratio"] < 1 for r in rows)
    report = tmp_path / "report"
    assert main(["report", str(DUMP), "--output", str(report), "--tokenizer", "smollm2", "--pass-k", "1,4"]) == 0
    page = (report / "index.html").read_text(encoding="utf-8")
    assert "verl_dump" in page and 'class="plan">' in page  # the run and its traces, planning tokens highlighted
    assert "<td>0.75</td>" in page  # step-1 accuracy in the run's table
    doc = json.loads((report / "report.json").read_text())
    assert [m["accuracy"] for m in doc["runs"][0]["metrics"]] == [0.5, 0.75]


def test_mine_reads_a_verl_dump():
    from hicra.mining.config import MineConfig
    from hicra.mining.corpus import load_corpus

    corpus = load_corpus(MineConfig(rollouts=str(DUMP), progress=False))
    assert corpus.counts["records read"] == 16 and corpus.counts["successful"] == 10  # verl's `acc` extra


def _foreign(tmp_path: Path) -> Path:
    path = tmp_path / "other.jsonl"
    rows = [{"iteration": s, "question": q, "response": r, "score": float(ok), "meta": {"ok": ok}}
            for s in (0, 1) for q in ("q1", "q2") for r, ok in (("But wait, 2 + 2 = 4.", True), ("2 + 2 = 5.", False))]
    path.write_text("".join(json.dumps(x) + "\n" for x in rows), encoding="utf-8")
    return path


def test_field_mapping(tmp_path):
    src = _foreign(tmp_path)
    spec = "step=iteration,prompt_id=question,completion=response,reward=score,correct=meta.ok"
    recs = read_rollouts(import_rollouts(src, spec))
    assert len(recs) == 8 and recs[0] == {"step": 0, "prompt_id": "q1", "completion": "But wait, 2 + 2 = 4.",
                                          "reward": 1.0, "correct": True}
    out = tmp_path / "a"
    assert main(["analyze", str(src), "--field", spec, "--output", str(out), "--tokenizer", "smollm2",
                 "--pass-k", "1"]) == 0
    rows = json.loads((out / "metrics.json").read_text())
    rows = rows["metrics"]
    assert [r["accuracy"] for r in rows] == [0.5, 0.5]


def test_bad_mappings_name_the_problem(tmp_path):
    src = _foreign(tmp_path)
    with pytest.raises(ValueError, match="unknown hicra field 'steps'"):
        parse_field_map("steps=iteration")
    with pytest.raises(ValueError, match="not HICRA_FIELD=SOURCE_FIELD"):
        parse_field_map("step")
    with pytest.raises(RecordError, match=r"other.jsonl:1: missing field 'answer_text'"):
        import_rollouts(src, "step=iteration,completion=response,reward=score,answer=answer_text")
    with pytest.raises(RecordError, match=r"other.jsonl:1: missing field 'step'"):
        import_rollouts(src, "completion=response,reward=score,prompt_id=question")
    assert main(["analyze", str(src), "--field", "completion=response", "--output", str(tmp_path / "x")]) == 1


def test_bad_verl_dump_line(tmp_path):
    bad = tmp_path / "dump"
    bad.mkdir()
    (bad / "3.jsonl").write_text('{"input": "p", "output": "o", "step": 3}\n', encoding="utf-8")
    with pytest.raises(RecordError, match=r"3.jsonl:1: missing field 'score' \(verl rollout dump\)"):
        import_rollouts(bad)
