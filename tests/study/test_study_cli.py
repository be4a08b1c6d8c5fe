"""``hicra study`` end to end on the tiny model: files, skip of finished runs, refused setting changes, commands."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from hicra.cli import main

pytestmark = pytest.mark.slow


def rollout_keys(run_dir: Path) -> list[tuple]:
    rows = [json.loads(line) for line in (run_dir / "rollouts.jsonl").read_text().splitlines()]
    return [(r["step"], r["group_id"], r["prompt_id"], r["completion"]) for r in rows]


def test_study_writes_files_and_skips_finished_runs(study_argv, tmp_path, capsys):
    out = tmp_path / "study"
    argv = [*study_argv(out), "--eval-benchmarks", "gsm8k", "--eval-limit", "1", "--eval-max-tokens", "4"]
    assert main(argv) == 0
    for name in ("study.yaml", "study.json", "study.csv", "runs.csv", "curves.csv", "study.md", "report/index.html"):
        assert (out / name).is_file(), name
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == ["grpo-s0", "grpo-s1", "hicra-s0", "hicra-s1"]
    for name in runs:
        run = out / "runs" / name
        assert json.loads((run / "done.json").read_text())["steps"] == 2
        assert len(rollout_keys(run)) == 2 * 4  # 2 steps × (2 prompts × 2 samples)
        graded = (run / "heldout" / "graded" / "heldout.jsonl").read_text().splitlines()
        assert len(graded) == 4 * 2
    doc = json.loads((out / "study.json").read_text())
    assert doc["methods"] == ["hicra", "grpo"] and doc["baselines"] == ["grpo"]
    diff = doc["differences"]["grpo"]["heldout/pass@1"]
    hicra = doc["summary"]["hicra"]["heldout/pass@1"]["values"]
    grpo = doc["summary"]["grpo"]["heldout/pass@1"]["values"]
    assert diff["diffs"] == pytest.approx([a - b for a, b in zip(hicra, grpo)])
    assert diff["test"] == "sign-flip (exact)" and 0.5 <= diff["p_value"] <= 1.0  # 2 seeds: p ∈ {0.5, 1}
    assert "problem_bootstrap" in diff
    md = (out / "study.md").read_text()
    assert "| Method | Held-out Pass@1 | Held-out Pass@2 | GSM8K |" in md and "| Δ (hicra − grpo) |" in md
    assert json.loads((out / "runs" / "grpo-s1" / "eval" / "results.json").read_text())["benchmarks"]["gsm8k"]
    assert "Training curves" in (out / "report" / "index.html").read_text()
    assert "## Contrasts" in md and "| Seed | hicra | grpo | Δ |" in md and "phase analysis skipped" in md
    contrast = doc["contrasts"]["contrasts"][0]
    assert contrast["difference"]["diffs"] == diff["diffs"] and contrast["verdict"] == "inconclusive"
    assert "hicra: perplexity, planning vs execution" in doc["planning_vs_execution"]
    assert "Planning vs execution" in (out / "report" / "index.html").read_text()
    assert (out / "report" / "runs" / "hicra-s0" / "metrics.csv").is_file()

    # a second invocation trains and generates nothing: every file of the runs keeps its mtime
    # (evaluation summaries are rewritten from their caches; generations and training files are not touched)
    summaries = ("settings.json", "results.json", "results.csv", "results.md")
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("*")
              if p.is_file() and "graded" not in p.parts and p.name not in summaries}
    assert any("generations" in p.parts for p in before) and any("checkpoint-2" in p.parts for p in before)
    capsys.readouterr()
    assert main(argv) == 0
    assert capsys.readouterr().err.count("finished, skipped") == 4
    after = {p: p.stat().st_mtime_ns for p in before}
    assert after == before
    assert json.loads((out / "study.json").read_text())["summary"] == doc["summary"]


def test_changed_settings_are_refused_and_commands_parse(study_argv, tiny_model_dir, tmp_path, capsys):
    from hicra.trl.cli import parse

    out = tmp_path / "study"
    (out).mkdir()
    (out / "study.yaml").write_text("format: hicra-study\nversion: 1\ntraining: {max_steps: 9}\nevaluation: {}\n")
    assert main(study_argv(out)) == 1
    assert "max_steps=9" in capsys.readouterr().err
    assert main(study_argv(out, seed="3")) == 1
    assert "use --seeds" in capsys.readouterr().err

    fresh = tmp_path / "cmds"
    assert main([*study_argv(fresh), "--print-commands"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and not fresh.exists()  # runs nothing, writes nothing
    seen = set()
    for line in lines:
        words = shlex.split(line)
        assert words[:2] == ["hicra", "train"]
        _, values = parse(words[2:])
        assert values["max_steps"] == 2 and values["model"] == str(tiny_model_dir)
        seen.add((values["method"], values["seed"], Path(values["output_dir"]).name))
    assert seen == {(m, s, f"{m}-s{s}") for m in ("hicra", "grpo") for s in (0, 1)}
