"""One option mechanism (hicra.config) behind every command: what a field declares is enforced the same way from YAML,
from flags and from Python.

Property tests (Hypothesis) walk every field of every option dataclass: a value outside the field's declared range is
one ``ConfigError`` line from YAML and from flags alike (same reason, only the field's name differs), a value inside
is accepted by both, and ``null`` passes only for ``Optional`` fields. Table rows then run each command in-process
(``hicra.cli.main``) on the option cases of the bad-input sweep: seeds, counts, names checked before any model loads,
config files of the wrong shape, and the data-derived names and cells that must not escape.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import functools
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badinput import assert_clean_failure, run_cli, write_files
from hicra.analysis.options import AnalysisConfig, JudgeConfig
from hicra.analysis.score import ScoreConfig
from hicra.config import (INT_RANGE, SEED, ConfigError, add_arguments, check_url, coerce_values, field_bounds,
                          field_kind, flag_values, load_yaml, nullable)
from hicra.eval.cli import GradeConfig
from hicra.io.read import MAX_INT
from hicra.eval.runner import EvalConfig
from hicra.mining.ablate import file_stem
from hicra.mining.config import AblateConfig, MineConfig, ReviewExportConfig, ReviewImportConfig
from hicra.mining.review import escape_cell, unescape_cell
from hicra.study.config import StudyConfig
from hicra.tagging.cli import TagConfig
from hicra.testbed.warmstart import WarmStartConfig
from hicra.trl.config import HICRA_FIELDS, OVERRIDDEN_FIELDS, HICRAConfig
from hicra.verl.config import HICRAVerlConfig

CLASSES = [AnalysisConfig, JudgeConfig, ScoreConfig, MineConfig, AblateConfig, ReviewExportConfig,
           ReviewImportConfig, TagConfig, GradeConfig, EvalConfig, StudyConfig, HICRAVerlConfig, WarmStartConfig]
FIELDS = [(cls, f.name) for cls in CLASSES for f in dataclasses.fields(cls)]
# hicra train: its own fields, the TRL fields it redeclares, and the inherited TRL fields it bounds
FIELDS += [(HICRAConfig, name)
           for name in dict.fromkeys((*HICRA_FIELDS, *OVERRIDDEN_FIELDS, *HICRAConfig.FIELD_BOUNDS))]


def _kind(cls: type, name: str):
    import typing

    return field_kind(typing.get_type_hints(cls)[name])


NUMERIC = [(cls, name) for cls, name in FIELDS if _kind(cls, name).name in ("int", "float")
           or (_kind(cls, name).name == "list" and _kind(cls, name).item is int)]
PROPERTY = settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                            HealthCheck.too_slow])


def _inside(bounds: dict, is_int: bool):
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    if is_int:
        lo = None if low is None else low + ("gt" in bounds)
        hi = None if high is None else high - ("lt" in bounds)
        return st.integers(min_value=lo, max_value=hi)
    return st.floats(min_value=low, max_value=high, exclude_min="gt" in bounds, exclude_max="lt" in bounds,
                     allow_nan=False, allow_infinity=False)


def _outside(bounds: dict, is_int: bool):
    options = []
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    if low is not None:
        if is_int:
            options.append(st.integers(max_value=low - ("ge" in bounds)).filter(lambda v: v >= -(10**30)))
        else:
            options.append(st.floats(max_value=low, exclude_max="ge" in bounds, allow_nan=False,
                                     allow_infinity=False))
    if high is not None:
        if is_int:
            options.append(st.integers(min_value=high + ("le" in bounds)).filter(lambda v: v <= 10**30))
        else:
            options.append(st.floats(min_value=high, exclude_min="le" in bounds, allow_nan=False,
                                     allow_infinity=False))
    if not is_int:
        options.append(st.sampled_from([math.nan, math.inf, -math.inf]))
    return st.one_of(options)


@functools.lru_cache(maxsize=None)
def _parser(cls: type) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_arguments(parser, cls)
    return parser


def _from_flags(cls: type, name: str, value) -> dict:
    parser = _parser(cls)
    text = ",".join(map(repr, value)) if isinstance(value, list) else repr(value)
    required = [f"--{f.name.replace('_', '-')}=x" for f in dataclasses.fields(cls) if f.metadata.get("required")]
    args, _ = parser.parse_known_args([*required, f"--{name.replace('_', '-')}={text}"])
    return {k: v for k, v in coerce_values(cls, flag_values(cls, args), "flags").items() if k == name}


def _from_yaml(cls: type, name: str, value, path: Path) -> dict:
    path.write_text(yaml.safe_dump({name: value}), encoding="utf-8")
    return load_yaml(path, cls)


def _outcome(load, *args):
    try:
        return "ok", load(*args)
    except ConfigError as e:
        return "error", str(e)


@pytest.mark.parametrize("cls, name", NUMERIC, ids=[f"{c.__name__}.{n}" for c, n in NUMERIC])
@PROPERTY
@given(data=st.data())
def test_declared_range_is_enforced_identically_from_yaml_and_flags(cls, name, data, tmp_path_factory):
    bounds = field_bounds(cls, name)
    is_int = _kind(cls, name).name != "float"
    as_list = _kind(cls, name).name == "list"
    inside = data.draw(st.booleans())
    value = data.draw(_inside(bounds, is_int) if inside else _outside(bounds, is_int))
    value = [value] if as_list else value
    path = tmp_path_factory.mktemp("yaml") / "c.yaml"
    flags = _outcome(_from_flags, cls, name, value)
    from_yaml = _outcome(_from_yaml, cls, name, value, path)
    if inside:
        assert flags == ("ok", {name: value}) and from_yaml[0] == "ok", (flags, from_yaml)
        assert from_yaml[1][name] == value
        return
    assert flags[0] == from_yaml[0] == "error", (flags, from_yaml)
    flag = "--" + name.replace("_", "-")
    scalar = value[0] if as_list else value
    # the YAML reader refuses a non-finite number or one beyond int64 before any field check
    if not math.isfinite(scalar) or (isinstance(scalar, int) and not -MAX_INT <= scalar < MAX_INT):
        assert flags[1].startswith(flag + " ") and re.match(re.escape(f"{path}:") + r"\d+: ", from_yaml[1]), from_yaml
        return
    assert flags[1].startswith(flag + " ") and from_yaml[1].startswith(f"{path}: field '{name}' ")
    assert flags[1][len(flag):] == from_yaml[1][len(f"{path}: field '{name}'"):]  # the same reason
    assert "\n" not in flags[1] and len(flags[1]) < 300


@pytest.mark.parametrize("cls, name", FIELDS, ids=[f"{c.__name__}.{n}" for c, n in FIELDS])
def test_null_only_for_optional_fields(cls, name, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(f"{name}: null\n", encoding="utf-8")
    if nullable(cls, name):
        assert load_yaml(path, cls) == {name: None}
    else:
        with pytest.raises(ConfigError, match=rf"^{path}: field '{name}' must not be null"):
            load_yaml(path, cls)


def test_every_seed_is_bounded_to_32_bits_and_every_seed_count_to_1000():
    assert field_bounds(AnalysisConfig, "seeds")["le"] <= 1000 and field_bounds(AblateConfig, "seeds")["le"] <= 1000
    for cls, name in [(JudgeConfig, "seed"), (MineConfig, "seed"), (EvalConfig, "seed"), (StudyConfig, "seeds"),
                      (StudyConfig, "eval_seed"), (AblateConfig, "first_seed"), (WarmStartConfig, "seed")]:
        assert field_bounds(cls, name) == SEED, (cls, name)
    for name in ("seed", "data_seed", "dataset_seed"):
        assert field_bounds(HICRAConfig, name) == SEED
    assert field_bounds(ScoreConfig, "batch_size") == {"ge": 1, "le": INT_RANGE["le"]}  # every int fits 64 bits


def test_trl_overrides_are_marked_in_metadata_not_found_by_help_text():
    fields = {f.name: f for f in dataclasses.fields(HICRAConfig)}
    assert "max_steps" in OVERRIDDEN_FIELDS and "num_generations" in OVERRIDDEN_FIELDS
    assert "loss_type" not in OVERRIDDEN_FIELDS and "hicra_alpha" in HICRA_FIELDS
    assert all(fields[n].metadata["hicra_default"] for n in OVERRIDDEN_FIELDS)


@settings(max_examples=50)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=12), st.sampled_from([" ", "\t", "\n", "\x00"]))
def test_url_with_blank_or_control_character_is_refused(text, bad):
    with pytest.raises(ValueError):
        check_url(f"http://host{text}{bad}x/v1")


@settings(max_examples=200)
@given(st.text())
def test_csv_cells_never_start_a_formula_and_read_back(cell):
    escaped = escape_cell(cell)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unescape_cell(escaped) == cell


@settings(max_examples=200)
@given(name=st.text(min_size=0, max_size=40))
def test_ablation_file_names_stay_in_the_output_directory(name, tmp_path_factory):
    out = tmp_path_factory.mktemp("abl")
    path = (out / f"{file_stem(name)}.drop30.seed0.json").resolve()
    assert path.parent == out.resolve()


# --------------------------------------------------------------------------------- commands, run in-process
LEX = json.dumps({"grams": ["but wait", "let me check", "on the other hand", "we need to", "first of all"]})
RESULTS = {"model": "m", "benchmarks": {"math500": {"pass@1": 40.0, "stderr": 2.0, "samples": 1, "problems": 5}}}
NAN_RESULTS = json.dumps({"model": "n", "benchmarks": {"math500": {"pass@1": float("nan"), "stderr": 2.0}}})
GOOD_RUN = "".join(json.dumps({"step": 0, "prompt_id": f"p{i // 2}", "completion": "But wait, 2 + 2 = 4.",
                               "reward": float(i % 2), "correct": bool(i % 2)}) + "\n" for i in range(4))

BAD = [
    # one line for a null, a huge integer, a seed beyond 32 bits, a config of the wrong shape
    ("null-alpha-in-yaml", ["train", "--config", "c.yaml"], {"c.yaml": "hicra_alpha: null\n"},
     ["c.yaml", "hicra_alpha", "must not be null"]),
    ("huge-max-steps", ["train", "--max-steps", str(10**29)], {}, ["--max-steps", "30 digits"]),
    ("huge-steps-in-yaml", ["train", "--config", "c.yaml"], {"c.yaml": f"max_steps: {10**29}\n"},
     ["c.yaml:1", "too large"]),
    ("int-of-5000-digits", ["eval", "--max-tokens", "1" * 5000], {}, ["--max-tokens", "5000 characters"]),
    ("seed-beyond-32-bits", ["train", "--seed", str(2**32)], {}, ["--seed", "4294967295"]),
    ("vllm-url-with-space", ["train", "--vllm-server-base-url", "http://gpu host:8000"], {},
     ["--vllm-server-base-url", "spaces"]),
    ("unknown-loss-type", ["train", "--loss-type", "dapoo"], {}, ["--loss-type", "dapoo", "dapo"]),
    ("yaml-list", ["analyze", "r.jsonl", "--output", "o", "--config", "c.yaml"], {"c.yaml": "[]\n"},
     ["c.yaml", "mapping", "list"]),
    ("yaml-zero", ["eval", "--config", "c.yaml"], {"c.yaml": "0\n"}, ["c.yaml", "mapping", "int"]),
    ("yaml-mixed-keys", ["eval", "--config", "c.yaml"], {"c.yaml": "1: 2\nfoo: 3\n"}, ["c.yaml", "key 1",
                                                                                       "not a string"]),
    ("nested-non-string-key", ["train", "--config", "c.yaml"], {"c.yaml": "gym_options:\n  1: {}\n"},
     ["c.yaml:2", "key 1"]),
    ("mine-yaml-non-string-key", ["mine", "--config", "c.yaml", "--rollouts", "r.jsonl", "--output", "sg.json"],
     {"c.yaml": "true: 1\n", "r.jsonl": GOOD_RUN}, ["c.yaml", "key True"]),
    # counts and seeds of every command
    ("study-seed-beyond-32-bits", ["study", "--seeds", "0,4294967296", "--output", "s"], {}, ["--seeds",
                                                                                             "4294967295"]),
    ("study-seed-twice", ["study", "--seeds", "1,1", "--output", "s"], {}, ["--seeds", "listed twice"]),
    ("study-pass-k-twice", ["study", "--pass-k", "2,2", "--output", "s"], {}, ["--pass-k", "listed twice"]),
    ("study-unknown-benchmark", ["study", "--eval-benchmarks", "math501", "--output", "s"], {},
     ["--eval-benchmarks", "math501"]),
    ("study-missing-heldout-file", ["study", "--heldout-dataset", "no.jsonl", "--output", "s"], {},
     ["--heldout-dataset", "no.jsonl"]),
    ("study-unknown-gym-task", ["study", "--heldout-dataset", "gym:no_such_task", "--output", "s"], {},
     ["--heldout-dataset", "no_such_task"]),
    ("analysis-ablation-seeds", ["analyze", "r.jsonl", "--output", "o", "--lexicon-ablation", "0.3", "--seeds",
                                 "1000000000"], {"r.jsonl": GOOD_RUN}, ["--seeds", "1000000000"]),
    ("analyze-pass-k-twice", ["analyze", "r.jsonl", "--output", "o", "--pass-k", "4,4"], {"r.jsonl": GOOD_RUN},
     ["--pass-k", "4 is listed twice"]),
    ("ablate-seeds-huge", ["mine", "ablate", "lex.json", "--seeds", "1000000000", "--output", "out"],
     {"lex.json": LEX}, ["--seeds", "1000000000"]),
    ("ablate-last-seed-beyond-32-bits", ["mine", "ablate", "lex.json", "--first-seed", "4294967295", "--seeds", "2",
                                         "--output", "out"], {"lex.json": LEX}, ["--first-seed", "4294967295"]),
    ("judge-seed-negative", ["judge", "r.jsonl", "--seed", "-1"], {"r.jsonl": GOOD_RUN}, ["--seed", "got -1"]),
    ("review-export-examples-negative", ["mine", "review-export", "lex.json", "--output", "r.csv", "--examples",
                                         "-1"], {"lex.json": LEX}, ["--examples", "got -1"]),
    ("tag-batch-size", ["tag", "--input", "in.jsonl", "--output", "o.jsonl", "--batch-size", "0"],
     {"in.jsonl": '{"text": "so"}\n'}, ["--batch-size", ">= 1"]),
    ("warmstart-no-traces", ["testbed", "warmstart", "--output", "ws", "--traces", "0"], {}, ["--traces", ">= 1"]),
    ("warmstart-prior-not-numbers", ["testbed", "warmstart", "--output", "ws", "--prior", "1,x"], {},
     ["--prior", "'1,x'"]),
    ("warmstart-prior-of-two", ["testbed", "warmstart", "--output", "ws", "--prior", "0.5,0.5"], {},
     ["--prior", "4 probabilities summing to 1"]),
    ("warmstart-prior-negative", ["testbed", "warmstart", "--config", "c.yaml"],
     {"c.yaml": "prior: [0.5, 0.5, 0.5, -0.5]\n"}, ["c.yaml", "prior", "[0, 1]"]),
    # names and values that used to fail late or write garbage
    ("score-tiny-temperature", ["score", "--input", "r.jsonl", "--output", "o.jsonl", "--temperature", "1e-300"],
     {"r.jsonl": GOOD_RUN}, ["--temperature", "1e-300"]),
    ("mine-unknown-embedder", ["mine", "--rollouts", "r.jsonl", "--output", "sg.json", "--embedder", "nope"],
     {"r.jsonl": GOOD_RUN}, ["--embedder", "'nope'", "minilm, tfidf"]),
    ("mine-url-with-space", ["mine", "--rollouts", "r.jsonl", "--output", "sg.json", "--llm-base-url",
                             "http://local host/v1", "--llm-model", "m"], {"r.jsonl": GOOD_RUN},
     ["--llm-base-url", "spaces"]),
    ("judge-url-with-space", ["judge", "r.jsonl", "--base-url", "http://a b/v1", "--model", "m"],
     {"r.jsonl": GOOD_RUN}, ["--base-url", "spaces"]),
    ("compare-nan", ["eval", "--compare", "a", "b"], {"a/results.json": json.dumps(RESULTS),
                                                     "b/results.json": NAN_RESULTS},
     ["b/results.json:1", "pass@1", "NaN"]),
]


@pytest.mark.parametrize("argv, files, mentions", [r[1:] for r in BAD], ids=[r[0] for r in BAD])
def test_bad_option_fails_in_one_line_before_any_work(argv, files, mentions, tmp_path, capsys):
    write_files(tmp_path, files)
    assert_clean_failure(argv, tmp_path, capsys, mentions)


def test_compare_labels_with_a_pipe_stay_one_cell(tmp_path, capsys):
    other = {**RESULTS, "benchmarks": {"math500": {**RESULTS["benchmarks"]["math500"], "pass@1": 30.0}}}
    write_files(tmp_path, {"a/results.json": json.dumps(RESULTS), "b/results.json": json.dumps(other)})
    assert run_cli(["eval", "--compare", "a", "b", "--labels", "A|x,B"], tmp_path) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| A")]
    assert rows == ["| A\\|x | 40.0 ± 2.0 | 40.0 ± 2.0 |"]


def test_ablation_of_a_lexicon_named_like_a_path_writes_inside_output(tmp_path, capsys):
    for name in ("../escape", str(tmp_path / "abs"), ".hidden"):
        write_files(tmp_path, {"lex.json": json.dumps({"name": name, "grams": json.loads(LEX)["grams"]})})
        assert run_cli(["mine", "ablate", "lex.json", "--seeds", "2", "--output", "out"], tmp_path) == 0
    inside = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert inside == {Path("lex.json"), Path("out/ablation.json"), *(
        Path(f"out/{stem}.drop30.seed{s}.json") for stem in ("_escape", file_stem(str(tmp_path / "abs")), "hidden")
        for s in (0, 1))}


def test_review_csv_escapes_formula_cells_and_imports_them(tmp_path, capsys):
    corpus = [{"solution": "=HYPERLINK(1) but wait, it works."}, {"solution": "-1 so let me check the sum."}]
    write_files(tmp_path, {"lex.json": LEX, "c.jsonl": "".join(json.dumps(r) + "\n" for r in corpus)})
    assert run_cli(["mine", "review-export", "lex.json", "--rollouts", "c.jsonl", "--output", "r.csv"],
                   tmp_path) == 0
    with (tmp_path / "r.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    examples = {r["gram"]: r["examples"] for r in rows}
    assert examples["but wait"] == "'=HYPERLINK(1) [but wait], it works."
    assert examples["let me check"] == "'-1 so [let me check] the sum."
    for r in rows:
        r["human_label"] = "=1" if r["gram"] == "but wait" else "s"
    with (tmp_path / "r.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([{**r, "human_label": escape_cell(r["human_label"])} for r in rows])
    capsys.readouterr()
    # '=1 reads back as "=1", which is no label: the import names it instead of taking the quote as text
    assert run_cli(["mine", "review-import", "lex.json", "r.csv", "--output", "rev.json"], tmp_path) == 1
    assert "human_label '=1'" in capsys.readouterr().err


def test_pass_k_above_every_group_is_noted(tmp_path, capsys):
    write_files(tmp_path, {"r.jsonl": GOOD_RUN})
    assert run_cli(["analyze", "r.jsonl", "--output", "o", "--tokenizer", "smollm2", "--pass-k", "1,4"],
                   tmp_path) == 0
    err = capsys.readouterr().err
    assert "--pass-k 4 exceeds the size of every prompt group" in err and "--pass-k 1 " not in err


def test_verl_alpha_is_bounded_like_the_core():
    assert HICRAVerlConfig.from_mapping({"alpha": 0.5}).alpha == 0.5
    for alpha in (1.0, 1.5, -0.1, math.nan):
        with pytest.raises(ConfigError, match=r"^algorithm\.hicra\.alpha must "):
            HICRAVerlConfig.from_mapping({"alpha": alpha})
    with pytest.raises(ConfigError, match=r"^algorithm\.hicra\.alpha must not be null"):
        HICRAVerlConfig.from_mapping({"alpha": None})


def test_ctrl_c_during_grade_is_one_line_and_exit_130(tmp_path):
    preds = "".join(json.dumps({"completion": f"\\boxed{{{i}^{{{i}}}}}", "answer": f"{i}"}) + "\n"
                    for i in range(20000))
    (tmp_path / "p.jsonl").write_text(preds, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "hicra.cli", "grade", "--pred", "p.jsonl", "--workers", "1"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    for _ in range(600):  # wait until grading runs (its worker process exists), then press Ctrl-C
        if proc.poll() is not None or (children.exists() and children.read_text().split()):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["hicra grade: interrupted"]
