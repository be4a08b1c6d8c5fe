"""Every command that writes, by property: an output that is one of its inputs (however the path is spelt) is refused
in one line with every file unchanged; a successful run changes only the files it owns; a failing run changes none.

Commands run in-process (``hicra.cli.main``) inside a fresh folder; :func:`assert_only_owned_changed` snapshots
every file of the folder before the command and compares afterwards.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badinput import assert_clean_failure, run_cli, snapshot, write_files

GOOD = {"step": 0, "prompt_id": "p0", "completion": "But wait, so 2 + 2 = 4.", "reward": 1.0, "correct": True}
LEXICON = '{"name": "sg", "grams": ["but wait", "so"]}\n'
REVIEW = "gram,human_label\nbut wait,s\nso,p\n"


def jl(*rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def rollouts() -> str:
    return jl(*({**GOOD, "prompt_id": f"p{i}", "completion": f"But wait, let me check case {i}. So it is {i}."}
                for i in range(6)))


@dataclass
class Command:
    """A command line with ``{role}`` placeholders, the file each role names by default, and which roles are
    outputs and which inputs."""

    name: str
    argv: list[str]
    roles: dict[str, str]
    outputs: tuple[str, ...]
    inputs: tuple[str, ...]
    files: dict[str, str]

    def line(self, **paths: str) -> list[str]:
        values = {**self.roles, **paths}
        return [a.format(**values) for a in self.argv]


COMMANDS = [
    Command("tag", ["tag", "--tokenizer", "smollm2", "--input", "{input}", "--lexicon", "{lexicon}", "--output",
                    "{output}", "--html", "{html}"],
            {"input": "in.jsonl", "lexicon": "lex.json", "output": "out.jsonl", "html": "page.html"},
            ("output", "html"), ("input", "lexicon"), {"in.jsonl": jl({"text": "but wait"}), "lex.json": LEXICON}),
    Command("grade", ["grade", "--pred", "{pred}", "--gold", "{gold}", "--workers", "1", "--output", "{output}"],
            {"pred": "p.jsonl", "gold": "g.jsonl", "output": "v.jsonl"}, ("output",), ("pred", "gold"),
            {"p.jsonl": jl({"completion": "\\boxed{2}"}), "g.jsonl": jl({"answer": "2"})}),
    Command("mine", ["mine", "--rollouts", "{rollouts}", "--config", "{config}", "--output", "{output}",
                     "--review-csv", "{review}", "--llm-cache", "{cache}", "--embedder", "tfidf", "--no-progress"],
            {"rollouts": "r.jsonl", "config": "m.yaml", "output": "sg.json", "review": "rev.csv",
             "cache": "ann.jsonl"},
            ("output", "review", "cache"), ("rollouts", "config"), {"r.jsonl": rollouts(), "m.yaml": "min_df: 0.1\n"}),
    Command("review-import", ["mine", "review-import", "{lexicon}", "{csv}", "--output", "{output}"],
            {"lexicon": "lex.json", "csv": "rev.csv", "output": "out.json"}, ("output",), ("lexicon", "csv"),
            {"lex.json": LEXICON, "rev.csv": REVIEW}),
    Command("review-export", ["mine", "review-export", "{lexicon}", "--rollouts", "{rollouts}", "--output",
                              "{output}"],
            {"lexicon": "lex.json", "rollouts": "r.jsonl", "output": "new.csv"}, ("output",), ("lexicon", "rollouts"),
            {"lex.json": LEXICON, "r.jsonl": rollouts()}),
    Command("score", ["score", "--input", "{input}", "--output", "{output}"],
            {"input": "in.jsonl", "output": "out.jsonl"}, ("output",), ("input",), {"in.jsonl": rollouts()}),
    Command("judge", ["judge", "{run}", "--cache", "{cache}", "--taxonomy", "{taxonomy}", "--base-url",
                      "http://127.0.0.1:9/v1", "--model", "m", "--retries", "0"],
            {"run": "r.jsonl", "cache": "j.jsonl", "taxonomy": "t.yaml"}, ("cache",), ("run", "taxonomy"),
            {"r.jsonl": rollouts(), "t.yaml": "causes:\n- {letter: A, name: a, group: g}\n"
                                              "- {letter: B, name: b, group: h}\n"}),
]
PAIRS = [(c, o, i) for c in COMMANDS for o in c.outputs for i in c.inputs]


def spell(name: str, how: str, root: Path) -> str:
    """Another way to name the file ``name`` under ``root`` (creating the link it needs)."""
    if how == "plain":
        return name
    if how == "dot":
        return f"./{name}"
    if how == "updown":
        (root / "sub").mkdir(exist_ok=True)
        return f"sub/../{name}"
    if how == "absolute":
        return str(root / name)
    link = root / f"link-{how}-{name}"
    (os.link if how == "hardlink" else os.symlink)(root / name, link)
    return link.name


@pytest.mark.parametrize("command, output, source", PAIRS,
                         ids=[f"{c.name}:{o}={i}" for c, o, i in PAIRS])
def test_an_output_equal_to_an_input_is_refused(tmp_path, capsys, command, output, source):
    write_files(tmp_path, command.files)
    line = assert_clean_failure(command.line(**{output: command.roles[source]}), tmp_path, capsys,
                                [command.roles[source]])
    assert "is also" in line or "exists" in line, line  # a review CSV is never replaced: refused either way


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=st.sampled_from([p for p in PAIRS if p[0].name not in ("mine", "review-export")]),
       how=st.sampled_from(["plain", "dot", "updown", "absolute", "hardlink", "symlink"]))
def test_however_the_path_is_spelt(capsys, pair, how):
    command, output, source = pair
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_files(root, command.files)
        same = spell(command.roles[source], how, root)
        line = assert_clean_failure(command.line(**{output: same}), root, capsys)
        assert "is also" in line, line


def assert_only_owned_changed(argv: list[str], root: Path, owned: set[str]) -> dict[str, str]:
    """Run ``hicra ARGV`` in ``root``; it must succeed, and every file it does not own must be byte-identical
    and no other file created. Returns the snapshot after the run."""
    before = snapshot(root)
    status = run_cli(argv, root)
    assert status == 0, f"hicra {' '.join(argv)} failed"
    after = snapshot(root)
    touched = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
    assert touched <= owned, f"changed files it does not own: {sorted(touched - owned)}"
    return after


@pytest.mark.parametrize("name, owned", [
    ("tag", {"out.jsonl", "page.html"}),
    ("grade", {"v.jsonl"}),
    ("review-import", {"out.json"}),
    ("review-export", {"new.csv"}),
])
def test_a_successful_command_changes_only_what_it_owns(tmp_path, capsys, name, owned):
    command = next(c for c in COMMANDS if c.name == name)
    write_files(tmp_path, {**command.files, "out.jsonl.tmp": "a user's file\n", "new.csv.tmp": "mine\n"})
    after = assert_only_owned_changed(command.line(), tmp_path, owned)
    assert owned <= set(after)


def test_tag_failing_on_html_replaces_nothing(tmp_path, capsys):
    write_files(tmp_path, {"in.jsonl": jl({"text": "but wait"}), "out.jsonl": "old\n", "afile": "x\n"})
    assert_clean_failure(["tag", "--tokenizer", "smollm2", "--input", "in.jsonl", "--output", "out.jsonl", "--html",
                          "afile/page.html"], tmp_path, capsys, ["afile/page.html"])


def test_mine_refuses_a_sidecar_over_its_input(tmp_path, capsys):
    write_files(tmp_path, {"sg.mining.json": rollouts()})
    assert_clean_failure(["mine", "--rollouts", "sg.mining.json", "--output", "sg.json", "--embedder", "tfidf",
                          "--no-progress"], tmp_path, capsys, ["sidecar", "sg.mining.json", "--rollouts"])


def test_ablate_refuses_a_variant_over_its_lexicon(tmp_path, capsys):
    write_files(tmp_path, {"abl/sg.drop50.seed0.json": LEXICON})
    assert_clean_failure(["mine", "ablate", "abl/sg.drop50.seed0.json", "--drop", "0.5", "--seeds", "2", "--output",
                          "abl"], tmp_path, capsys, ["is also"])


def test_grade_refuses_an_empty_or_blank_prediction_file(tmp_path, capsys):
    for text in ("", "\n  \n"):
        write_files(tmp_path, {"p.jsonl": text})
        assert_clean_failure(["grade", "--pred", "p.jsonl", "--gold", "2"], tmp_path, capsys,
                             ["p.jsonl", "no records"])


@pytest.mark.parametrize("config", ["[]\n", "0\n", "1: 2\nfoo: 3\n", "a: &x 1\nb: *x\n", "seed: 1\nseed: 2\n"])
def test_a_config_of_the_wrong_shape_is_one_located_error(tmp_path, capsys, config):
    write_files(tmp_path, {"c.yaml": config})
    assert_clean_failure(["eval", "--config", "c.yaml", "--benchmarks", "gsm8k", "--output", "o"], tmp_path, capsys,
                         ["c.yaml:"])


@pytest.mark.parametrize("results", [
    '{"benchmarks": {"gsm8k": {"pass@1": "high"}}}', '{"benchmarks": {"gsm8k": 3}}', '{"benchmarks": []}',
    '{"benchmarks": {"nope": {"pass@1": 1, "stderr": 0, "samples": 1, "problems": 1}}}', "[1",
])
def test_compare_refuses_a_malformed_results_file(tmp_path, capsys, results):
    good = {"model": "b", "benchmarks": {"gsm8k": {"pass@1": 50.0, "stderr": 1.0, "samples": 1, "problems": 2}}}
    write_files(tmp_path, {"a/results.json": results, "b/results.json": json.dumps(good)})
    assert_clean_failure(["eval", "--compare", "a", "b"], tmp_path, capsys, ["a/results.json"])


def test_logprobs_given_as_strings_are_refused(tmp_path, capsys):
    bad = {**GOOD, "completion_ids": [1, 2], "logprobs": ["-0.5", "-1.0"]}
    write_files(tmp_path, {"in.jsonl": jl(GOOD, bad)})
    assert_clean_failure(["score", "--input", "in.jsonl", "--output", "out.jsonl"], tmp_path, capsys,
                         ["in.jsonl:2", "'logprobs'"])


def test_a_review_csv_with_a_gram_twice_is_refused(tmp_path, capsys):
    write_files(tmp_path, {"lex.json": LEXICON, "rev.csv": "gram,human_label\nso,s\nbut wait,s\nso,p\n"})
    assert_clean_failure(["mine", "review-import", "lex.json", "rev.csv", "--output", "out.json"], tmp_path, capsys,
                         ["rev.csv:4", "'so'", "twice"])


@pytest.mark.parametrize("argv, directory, what", [
    (["train", "--output-dir", "run", "--preset", "smoke"], "run", "hicra train"),
    (["study", "--output", "s", "--preset", "smoke"], "s", "hicra study"),
])
def test_a_second_process_in_a_busy_directory_gets_one_line(tmp_path, capsys, argv, directory, what):
    from hicra.io import lock_dir

    with lock_dir(tmp_path / directory, what):  # another process holds the directory
        assert_clean_failure(argv, tmp_path, capsys, [f"in use by another {what} (pid {os.getpid()})"])


@pytest.mark.parametrize("argv, config", [
    (["analyze", "r.jsonl", "--output", "res", "--tokenizer", "smollm2", "--config", "res/metrics.json"],
     "res/metrics.json"),
    (["report", "r.jsonl", "--output", "rep", "--tokenizer", "smollm2", "--config", "rep/report.json"],
     "rep/report.json"),
])
def test_analyze_and_report_never_write_over_their_config(tmp_path, capsys, argv, config):
    write_files(tmp_path, {"r.jsonl": rollouts(), config: "{}\n"})
    before = snapshot(tmp_path)
    capsys.readouterr()
    assert run_cli(argv, tmp_path) == 1
    err = capsys.readouterr().err.splitlines()  # notes about the unscored rollouts come first
    assert err[-1].startswith(f"hicra {argv[0]}: error: ") and f"is also --config {config}" in err[-1]
    assert snapshot(tmp_path) == before  # no output written, the config untouched
