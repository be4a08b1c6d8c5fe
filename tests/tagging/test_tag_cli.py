"""``hicra tag`` end to end through ``hicra.cli.main`` with the real SmolLM2 tokenizer (paper §2.1, Figure 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hicra.cli import main
from hicra.lexicon import normalize_gram

TEXTS = ["Let’s check.\nBut\n\nwait, that can't be right. Also, so 2+2=4.", "Nothing strategic in 日本 😀.", ""]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def run_tag(tmp_path: Path, *extra: str, field: str = "text") -> list[dict]:
    src = write_lines(tmp_path / "in.jsonl", [json.dumps({field: t, "id": i}) for i, t in enumerate(TEXTS)])
    out = tmp_path / "out.jsonl"
    assert main(["tag", "--tokenizer", "smollm2", "--input", str(src), "--output", str(out), *extra]) == 0
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_output_schema_and_spans(tmp_path: Path, capsys):
    rows = run_tag(tmp_path)
    assert "tagged 3 texts" in capsys.readouterr().out
    assert len(rows) == len(TEXTS)
    for text, row in zip(TEXTS, rows):
        assert set(row) == {"tokens", "planning", "spans"}
        assert len(row["tokens"]) == len(row["planning"]) and set(row["planning"]) <= {0, 1}
        for start, end, gram in row["spans"]:
            assert normalize_gram(text[start:end]) == gram
    first = rows[0]
    grams = [g for _, _, g in first["spans"]]
    assert grams == ["let's", "but", "but wait", "wait", "that can't be right", "so"]  # ordered by end
    planning = [tok for tok, p in zip(first["tokens"], first["planning"]) if p]
    assert "".join(planning).replace(" ", "").replace("\n", "") == "Let’sButwaitthatcan'tberightso"
    assert rows[1]["spans"] == [] and sum(rows[1]["planning"]) == 0
    assert rows[2] == {"tokens": [], "planning": [], "spans": []}


def test_field_and_html(tmp_path: Path):
    html_path = tmp_path / "page.html"
    rows = run_tag(tmp_path, "--field", "completion", "--html", str(html_path), field="completion")
    assert rows[0]["spans"]
    page = html_path.read_text(encoding="utf-8")
    assert page.lower().startswith("<!doctype html>") and '<span class="plan">' in page
    assert '<span class="plan">Let’s</span>' in page and "Nothing strategic in 日本 😀." in page


@pytest.mark.parametrize("lines, problem", [
    (['{"text": "so"}', '{"text": "but wait"', '{"text": "x"}'], "in.jsonl:2: invalid JSON"),
    (['{"text": "so"}', "", '{"other": 1}'], "in.jsonl:3: missing field 'text'"),
    (['{"text": "so"}', "", '{"text": 7}'], "in.jsonl:3: field 'text' is not a string"),
    (['["so"]'], "in.jsonl:1: expected a JSON object"),
])
def test_bad_input_is_one_line_error(tmp_path: Path, capsys, lines: list[str], problem: str):
    src = write_lines(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    assert main(["tag", "--tokenizer", "smollm2", "--input", str(src), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hicra tag: error: ") and problem in err
    assert not out.exists()


def test_bad_lexicon_is_one_line_error(tmp_path: Path, capsys):
    src = write_lines(tmp_path / "in.jsonl", ['{"text": "so"}'])
    bad = write_lines(tmp_path / "lex.json", ['{"grams": 3}'])
    assert main(["tag", "--lexicon", str(bad), "--input", str(src), "--output", str(tmp_path / "o.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lex.json: field 'grams' must be a list" in err


@pytest.mark.parametrize("extra, problem", [
    (["--batch-size", "-1"], "--batch-size must be >= 1, got -1"),
    (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
    (["--output", "IN"], "is also --input"),
    (["--html", "OUT"], "--html OUT is also --output OUT"),
])
def test_bad_flags_leave_the_old_output_alone(tmp_path: Path, capsys, extra: list[str], problem: str):
    src = write_lines(tmp_path / "in.jsonl", ['{"text": "but wait"}'])
    out = write_lines(tmp_path / "out.jsonl", ['{"old": 1}'])
    extra = [str(src) if x == "IN" else str(out) if x == "OUT" else x for x in extra]
    argv = ["tag", "--tokenizer", "smollm2", "--input", str(src), "--output", str(out)]
    assert main(argv + extra) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and problem.replace("OUT", str(out)) in err
    assert out.read_text(encoding="utf-8") == '{"old": 1}\n'
    assert src.read_text(encoding="utf-8") == '{"text": "but wait"}\n'
