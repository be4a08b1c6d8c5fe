"""Benchmark loaders: shipped data, per-benchmark reference fields, the hub code path, name errors."""

from __future__ import annotations

import sys
import types

import pytest

from hicra.eval.benchmarks import BENCHMARKS, get_benchmark, gsm8k_answer, load_problems, olympiad_answers

SIZES = {"aime24": 30, "aime25": 30, "amc23": 40, "math500": 500, "minerva": 272, "olympiad": 675, "gsm8k": 1319}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_shipped_sets_load_completely_with_unique_ids(name):
    problems = load_problems(name)
    assert len(problems) == SIZES[name]
    assert len({p.id for p in problems}) == len(problems)
    assert all(p.prompt.strip() and p.reference.strip() for p in problems)


def test_shipped_data_matches_the_shared_copy(shared_dir):
    from importlib import resources

    for bench in BENCHMARKS.values():
        packaged = resources.files("hicra") / "data" / "benchmarks" / bench.folder / "test.jsonl"
        assert packaged.read_bytes() == (shared_dir / "benchmarks" / bench.folder / "test.jsonl").read_bytes()


def test_reference_fields_per_benchmark():
    assert load_problems("amc23", limit=1)[0].reference == "27"  # "27.0" in the file
    assert load_problems("minerva", limit=1)[0].reference == "1.6"  # last \boxed{} of the solution
    assert load_problems("gsm8k", limit=1)[0].reference == "18"
    assert load_problems("math500", limit=1)[0].reference == r"\left( 3, \frac{\pi}{2} \right)"
    olympiad = {p.id: p for p in load_problems("olympiad")}
    multiple = [p for p in olympiad.values() if p.meta["multiple"]]
    assert len(multiple) == 94 and all("$" not in p.reference for p in olympiad.values())
    assert any(p.meta["unit"] == "km" for p in olympiad.values())


def test_olympiad_final_answer_forms():
    assert olympiad_answers("['$69$,$84$']") == ["$69$,$84$"]
    assert olympiad_answers(["2", "3"]) == ["2", "3"]
    assert olympiad_answers("__import__('os')") == ["__import__('os')"]  # text, never evaluated
    assert olympiad_answers("[__import__('os')]") == ["[__import__('os')]"]


def test_gsm8k_answer():
    assert gsm8k_answer("so 1,000 + 234\n#### 1,234") == "1234"
    with pytest.raises(ValueError, match="####"):
        gsm8k_answer("no marker")


def test_aliases_and_unknown_names():
    assert get_benchmark("minerva_math").name == "minerva" and get_benchmark("OlympiadBench").name == "olympiad"
    with pytest.raises(ValueError, match="unknown benchmark 'aime23'; valid: aime24"):
        get_benchmark("aime23")
    with pytest.raises(ValueError, match="unknown data source"):
        load_problems("aime24", source="ftp")


def test_limit():
    assert [p.id for p in load_problems("math500", limit=3)] == [p.id for p in load_problems("math500")[:3]]


def _fake_datasets(monkeypatch, rows=None, error=None):
    calls = []

    def load_dataset(path, name=None, split=None):
        calls.append((path, name, split))
        if error:
            raise error
        return rows

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    return calls


def test_hub_source_uses_load_dataset_with_each_sets_fields(monkeypatch):
    calls = _fake_datasets(monkeypatch, rows=[
        {"final_answer": ["$x=1$"], "question": "Q?", "context": None, "is_multiple_answer": False, "unit": None,
         "id": 7, "answer_type": "Expression"}])
    [p] = load_problems("olympiad", source="hub")
    assert calls == [("Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train")]
    assert (p.id, p.prompt, p.reference) == ("7", "Q?", "x=1")
    _fake_datasets(monkeypatch, rows=[{"question": "Q", "answer": "x\n#### 5"}])
    assert load_problems("gsm8k", source="hub")[0].reference == "5"
    _fake_datasets(monkeypatch, rows=[{"problem": "P", "solution": r"so \boxed{2}", "answer": "2"}] * 2)
    assert [p.id for p in load_problems("minerva", source="hub")] == ["0", "1"]


def test_hub_errors_are_one_line(monkeypatch):
    _fake_datasets(monkeypatch, error=ConnectionError("offline"))
    with pytest.raises(RuntimeError, match=r"cannot load aime24 from the hub \(HuggingFaceH4/aime_2024\)"):
        load_problems("aime24", source="hub")
    _fake_datasets(monkeypatch, rows=[{"problem": "P"}])
    with pytest.raises(ValueError, match="aime25 \\(hub\\) row 1: row has none of the fields answer"):
        load_problems("aime25", source="hub")


def test_package_data_readme_names_sources():
    from importlib import resources

    readme = (resources.files("hicra") / "data" / "benchmarks" / "README.md").read_text(encoding="utf-8")
    for bench in BENCHMARKS.values():
        assert bench.folder in readme and bench.hub[0] in readme
