"""Bad inputs of `hicra tag`, `mine`, `score`, `analyze`, `judge` and `report`: each fails cleanly.

One row per bad input: the files it needs are written under ``tmp_path`` (names relative to it), then
``tests.badinput.assert_clean_failure`` checks exit status ≠ 0, one ``hicra CMD: error:`` line naming the file,
line or field at fault, no traceback, and every pre-existing file byte-identical (outputs from an earlier run
included). Every row fails before a model loads, so the table runs in seconds. Rows about option ranges mention
the offending value ("got 0.0"), which the field check and the central range check of ``hicra.config`` both print.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from badinput import assert_clean_failure, write_files

GOOD = {"step": 0, "prompt_id": "p0", "completion": "But wait, 2 + 2 = 4.", "reward": 1.0, "correct": True}
SCORED = {**GOOD, "completion_ids": [1, 2], "logprobs": [-0.5, -1.0], "entropies": [0.3, 1.0]}
OLD = '{"old": "output of an earlier run"}\n'


def jl(*rows) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def rollouts(**changes) -> str:
    """Two good records and a third one with ``changes`` (as raw JSON text, so NaN/Infinity stay literal)."""
    bad = json.dumps({**GOOD, "prompt_id": "p2"})[:-1]
    bad += "".join(f', "{k}": {v}' for k, v in changes.items()) + "}"
    return jl(GOOD, {**GOOD, "prompt_id": "p1"}, bad)


TAG = ["tag", "--tokenizer", "smollm2", "--input", "in.jsonl", "--output", "out.jsonl"]
MINE = ["mine", "--rollouts", "r.jsonl", "--output", "sg.json", "--embedder", "tfidf", "--no-progress"]
SCORE = ["score", "--input", "in.jsonl", "--output", "out.jsonl"]
ANALYZE = ["analyze", "r.jsonl", "--output", "res", "--tokenizer", "smollm2"]
JUDGE = ["judge", "r.jsonl", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--retries", "0"]
REPORT = ["report", "r.jsonl", "--output", "rep", "--tokenizer", "smollm2"]

# (id, files {relative path: text | bytes}, argv, mentions)
ROWS = [
    # ---------------------------------------------------------------- hicra tag
    ("tag-missing-input", {}, TAG, ["in.jsonl", "no such file"]),
    ("tag-broken-json", {"in.jsonl": '{"text": "so"}\n{"text": \n', "out.jsonl": OLD}, TAG,
     ["in.jsonl:2", "invalid JSON"]),
    ("tag-not-utf8", {"in.jsonl": '{"text": "caf\xe9"}\n'.encode("latin-1")}, TAG, ["in.jsonl:1", "UTF-8"]),
    ("tag-field-not-string", {"in.jsonl": jl({"text": 3})}, TAG, ["in.jsonl:1", "'text'"]),
    ("tag-field-missing", {"in.jsonl": jl({"text": "a"}, {"body": "b"})}, TAG + ["--field", "text"],
     ["in.jsonl:2", "'text'"]),
    ("tag-batch-size-negative", {"in.jsonl": jl({"text": "so"}), "out.jsonl": OLD}, TAG + ["--batch-size", "-1"],
     ["--batch-size", "-1"]),
    ("tag-batch-size-zero", {"in.jsonl": jl({"text": "so"}), "out.jsonl": OLD}, TAG + ["--batch-size", "0"],
     ["--batch-size"]),
    ("tag-punctuation-gram", {"in.jsonl": jl({"text": "so."}), "lex.txt": "but wait\n.\n", "out.jsonl": OLD},
     TAG + ["--lexicon", "lex.txt"], ["lex.txt:2", "'.'"]),
    ("tag-punctuation-gram-json", {"in.jsonl": jl({"text": "so."}), "lex.json": '{"grams": ["so", "!?"]}'},
     TAG + ["--lexicon", "lex.json"], ["lex.json", "grams[1]"]),
    ("tag-missing-lexicon", {"in.jsonl": jl({"text": "so"})}, TAG + ["--lexicon", "nolex.json"], ["nolex.json"]),
    ("tag-output-is-input", {"in.jsonl": jl({"text": "so"})}, TAG[:-1] + ["in.jsonl"], ["in.jsonl", "--input"]),
    ("tag-output-is-dir", {"in.jsonl": jl({"text": "so"}), "outdir/keep": "x"}, TAG[:-1] + ["outdir"],
     ["outdir", "directory"]),
    # ---------------------------------------------------------------- hicra mine
    ("mine-missing-input", {}, MINE, ["r.jsonl", "no such file"]),
    ("mine-empty-input", {"r.jsonl": ""}, MINE, ["r.jsonl", "no records"]),
    ("mine-reward-nan", {"r.jsonl": rollouts(reward="NaN"), "sg.json": OLD}, MINE, ["r.jsonl:3", "'reward'"]),
    ("mine-reward-inf", {"r.jsonl": rollouts(reward="Infinity")}, MINE, ["r.jsonl:3", "'reward'"]),
    ("mine-reward-string", {"r.jsonl": rollouts(reward='"1"')}, MINE, ["r.jsonl:3", "'reward'"]),
    ("mine-correct-not-bool", {"r.jsonl": rollouts(correct='"yes"')}, MINE, ["r.jsonl:3", "'correct'"]),
    ("mine-text-not-string", {"r.jsonl": rollouts(completion="7")}, MINE, ["r.jsonl:3", "'completion'"]),
    ("mine-not-utf8", {"r.jsonl": jl(GOOD).encode() + '{"solution": "\xe9"}\n'.encode("latin-1")}, MINE,
     ["r.jsonl:2", "UTF-8"]),
    ("mine-top-cluster-fraction-0", {"r.jsonl": rollouts(), "sg.json": OLD}, MINE + ["--top-cluster-fraction", "0"],
     ["got 0.0"]),
    ("mine-min-df-above-1", {"r.jsonl": rollouts()}, MINE + ["--min-df", "1.5"], ["got 1.5"]),
    ("mine-min-df-nan", {"r.jsonl": rollouts()}, MINE + ["--min-df", "nan"], ["got nan"]),
    ("mine-distance-negative", {"r.jsonl": rollouts()}, MINE + ["--distance-threshold", "-1"],
     ["got -1.0"]),
    ("mine-max-mean-count-nan", {"r.jsonl": rollouts()}, MINE + ["--max-mean-count", "nan"], ["got nan"]),
    ("mine-llm-file-url", {"r.jsonl": rollouts()}, MINE + ["--llm-base-url", "file:///etc/passwd", "--llm-model", "m"],
     ["--llm-base-url", "file:///etc/passwd"]),
    ("mine-llm-timeout-0", {"r.jsonl": rollouts()}, MINE + ["--llm-timeout", "0"], ["timeout", "got 0.0"]),
    ("mine-bad-yaml", {"r.jsonl": rollouts(), "m.yaml": "min_df: [\n"}, MINE + ["--config", "m.yaml"], ["m.yaml"]),
    ("mine-yaml-unknown-field", {"r.jsonl": rollouts(), "m.yaml": "min_dff: 0.1\n"}, MINE + ["--config", "m.yaml"],
     ["m.yaml", "min_dff"]),
    ("mine-output-is-dir", {"r.jsonl": rollouts(), "sgdir/keep": "x"}, MINE[:4] + ["sgdir"] + MINE[5:],
     ["sgdir", "directory"]),
    ("mine-output-is-input", {"r.jsonl": rollouts()}, MINE[:4] + ["r.jsonl"] + MINE[5:], ["--rollouts"]),
    ("mine-nothing-frequent", {"r.jsonl": jl({"solution": "Alpha beta gamma delta."}), "sg.json": OLD}, MINE,
     ["r.jsonl", "no 3-5-gram"]),
    ("mine-review-csv-not-utf8", {"lex.json": '{"grams": ["but wait"]}', "rev.csv": "gram,human_label\nbut wait,s\xe9\n"
                                  .encode("latin-1")}, ["mine", "review-import", "lex.json", "rev.csv", "--output",
                                                        "out.json"], ["rev.csv", "UTF-8"]),
    ("mine-review-export-examples-negative", {"lex.json": '{"grams": ["but wait"]}'},
     ["mine", "review-export", "lex.json", "--output", "rev.csv", "--examples", "-1"], ["--examples"]),
    ("mine-ablate-drop-nan", {"lex.json": '{"grams": ["but wait", "so"]}'},
     ["mine", "ablate", "lex.json", "--drop", "nan", "--output", "abl"], ["--drop"]),
    ("mine-review-export-keeps-labelled-csv", {"lex.json": '{"grams": ["but wait"]}',
                                               "rev.csv": "gram,human_label\nbut wait,strategic\n"},
     ["mine", "review-export", "lex.json", "--output", "rev.csv"], ["rev.csv", "exists"]),
    ("mine-review-csv-exists", {"r.jsonl": rollouts(), "rev.csv": "gram,human_label\nbut wait,strategic\n"},
     MINE + ["--review-csv", "rev.csv"], ["--review-csv rev.csv", "exists"]),
    ("mine-review-import-over-its-lexicon", {"lex.json": '{"grams": ["but wait"]}',
                                             "rev.csv": "gram,human_label\nbut wait,strategic\n"},
     ["mine", "review-import", "lex.json", "rev.csv", "--output", "lex.json"], ["--output lex.json", "lexicon"]),
    ("mine-review-import-over-its-csv", {"lex.json": '{"grams": ["but wait"]}',
                                         "rev.csv": "gram,human_label\nbut wait,strategic\n"},
     ["mine", "review-import", "lex.json", "rev.csv", "--output", "rev.csv"], ["--output rev.csv", "csv"]),
    # ---------------------------------------------------------------- hicra score
    ("score-missing-input", {"out.jsonl": OLD}, SCORE, ["in.jsonl", "no such file"]),
    ("score-missing-field", {"in.jsonl": jl({"step": 0, "prompt_id": "p", "completion": "x"})}, SCORE,
     ["in.jsonl:1", "'reward'"]),
    ("score-logprob-nan", {"in.jsonl": rollouts(completion_ids="[1, 2]", logprobs="[-1.0, NaN]")}, SCORE,
     ["in.jsonl:3", "'logprobs'"]),
    ("score-ids-negative", {"in.jsonl": rollouts(completion_ids="[1, -2]")}, SCORE, ["in.jsonl:3", "'completion_ids'"]),
    ("score-output-is-input", {"in.jsonl": jl(GOOD)}, SCORE[:-1] + ["in.jsonl"], ["--output", "--input"]),
    ("score-output-is-dir", {"in.jsonl": jl(GOOD), "outdir/keep": "x"}, SCORE[:-1] + ["outdir"], ["outdir"]),
    ("score-output-bad-middle-line", {"in.jsonl": jl(GOOD), "out.jsonl": jl("{oops", SCORED)}, SCORE,
     ["out.jsonl:1", "invalid JSON"]),
    ("score-bad-input-keeps-torn-output", {"in.jsonl": jl("{oops"), "out.jsonl": jl(SCORED) + '{"step": 0, "pr'},
     SCORE, ["in.jsonl:1"]),
    ("score-temperature-0", {"in.jsonl": jl(GOOD)}, SCORE + ["--temperature", "0"], ["temperature", "got 0.0"]),
    ("score-temperature-nan", {"in.jsonl": jl(GOOD)}, SCORE + ["--temperature", "nan"], ["temperature", "got nan"]),
    ("score-batch-size-0", {"in.jsonl": jl(GOOD)}, SCORE + ["--batch-size", "0"], ["must be >= 1, got 0"]),
    # ---------------------------------------------------------------- hicra analyze
    ("analyze-missing-run", {}, ANALYZE, ["r.jsonl"]),
    ("analyze-run-dir-without-rollouts", {"run/config.yaml": "method: grpo\n"}, ["analyze", "run", "--output", "res"],
     ["run", "rollouts.jsonl"]),
    ("analyze-bad-config-yaml", {"run/rollouts.jsonl": jl(GOOD), "run/config.yaml": "method: [\n"},
     ["analyze", "run", "--output", "res"], ["config.yaml", "YAML"]),
    ("analyze-reward-inf", {"r.jsonl": rollouts(reward="Infinity"), "res/metrics.csv": "old\n"}, ANALYZE,
     ["r.jsonl:3", "'reward'"]),
    ("analyze-reward-nan", {"r.jsonl": rollouts(reward="NaN")}, ANALYZE, ["r.jsonl:3", "'reward'"]),
    ("analyze-reward-null", {"r.jsonl": rollouts(reward="null")}, ANALYZE, ["r.jsonl:3", "'reward'"]),
    ("analyze-entropy-nan", {"r.jsonl": rollouts(completion_ids="[1]", entropies="[NaN]")}, ANALYZE,
     ["r.jsonl:3", "'entropies'"]),
    ("analyze-logprob-positive", {"r.jsonl": rollouts(completion_ids="[1]", logprobs="[3.0]")}, ANALYZE,
     ["r.jsonl:3", "'logprobs'"]),
    ("analyze-logprobs-length", {"r.jsonl": rollouts(completion_ids="[1, 2]", logprobs="[-1.0]")}, ANALYZE,
     ["r.jsonl:3", "'logprobs'"]),
    ("analyze-step-negative", {"r.jsonl": rollouts(step="-1")}, ANALYZE, ["r.jsonl:3", "'step'"]),
    ("analyze-not-utf8", {"r.jsonl": jl(GOOD).encode() + b'{"completion": "\xff"}\n'}, ANALYZE,
     ["r.jsonl:2", "UTF-8"]),
    ("analyze-top-q-0", {"r.jsonl": jl(GOOD)}, ANALYZE + ["--top-q", "0"], ["must be in (0, 1], got 0.0"]),
    ("analyze-top-q-nan", {"r.jsonl": jl(GOOD)}, ANALYZE + ["--top-q", "nan"], ["got nan"]),
    ("analyze-bucket-0", {"r.jsonl": jl(GOOD)}, ANALYZE + ["--bucket", "0"], ["bucket must be >= 1, got 0"]),
    ("analyze-ablation-1", {"r.jsonl": jl(GOOD)}, ANALYZE + ["--lexicon-ablation", "1"], ["got 1.0"]),
    ("analyze-threshold-nan", {"r.jsonl": jl(GOOD)}, ANALYZE + ["--correct-threshold", "nan"], ["got nan"]),
    ("analyze-pass-k-0", {"r.jsonl": jl(GOOD)}, ANALYZE + ["--pass-k", "0"], ["--pass-k", ">= 1"]),
    ("analyze-punctuation-lexicon", {"r.jsonl": jl(GOOD), "lex.txt": "...\n"}, ANALYZE + ["--lexicon", "lex.txt"],
     ["lex.txt:1"]),
    ("analyze-output-is-file", {"r.jsonl": jl(GOOD), "res": "a file\n"}, ANALYZE, ["res"]),
    # ---------------------------------------------------------------- hicra judge
    ("judge-file-url", {"r.jsonl": jl(GOOD)}, ["judge", "r.jsonl", "--base-url", "file:///etc", "--model", "m"],
     ["--base-url", "file:///etc"]),
    ("judge-no-url", {"r.jsonl": jl(GOOD)}, ["judge", "r.jsonl", "--model", "m"], ["--base-url"]),
    ("judge-missing-run", {}, JUDGE, ["r.jsonl"]),
    ("judge-reward-nan", {"r.jsonl": rollouts(reward="NaN")}, JUDGE, ["r.jsonl:3", "'reward'"]),
    ("judge-correct-not-bool", {"r.jsonl": rollouts(correct="1")}, JUDGE, ["r.jsonl:3", "'correct'"]),
    ("judge-bad-cache-line", {"r.jsonl": jl({**GOOD, "correct": False}), "r.judgments.jsonl": jl("{oops", {"key": 1})},
     JUDGE, ["r.judgments.jsonl:1"]),
    ("judge-bad-taxonomy", {"r.jsonl": jl(GOOD), "tax.yaml": "causes: 3\n"}, JUDGE + ["--taxonomy", "tax.yaml"],
     ["tax.yaml"]),
    ("judge-taxonomy-not-utf8", {"r.jsonl": jl(GOOD), "tax.yaml": "causes: caf\xe9\n".encode("latin-1")},
     JUDGE + ["--taxonomy", "tax.yaml"], ["tax.yaml", "UTF-8"]),
    ("analyze-config-not-utf8", {"run/rollouts.jsonl": jl(GOOD),
                                 "run/config.yaml": "method: caf\xe9\n".encode("latin-1")},
     ["analyze", "run", "--output", "res"], ["config.yaml", "UTF-8"]),
    ("judge-per-step-negative", {"r.jsonl": jl(GOOD)}, JUDGE + ["--per-step", "-1"], ["got -1"]),
    ("judge-timeout-0", {"r.jsonl": jl(GOOD)}, JUDGE + ["--timeout", "0"], ["timeout", "0.0"]),
    ("judge-timeout-nan", {"r.jsonl": jl(GOOD)}, JUDGE + ["--timeout", "nan"], ["timeout", "nan"]),
    ("judge-threshold-nan", {"r.jsonl": jl(GOOD)}, JUDGE + ["--correct-threshold", "nan"], ["--correct-threshold"]),
    # ---------------------------------------------------------------- hicra report
    ("report-missing-run", {"rep/index.html": "old\n"}, REPORT, ["r.jsonl"]),
    ("report-reward-inf", {"r.jsonl": rollouts(reward="-Infinity"), "rep/index.html": "old\n"}, REPORT,
     ["r.jsonl:3", "'reward'"]),
    ("report-second-run-broken", {"r.jsonl": jl(GOOD), "s.jsonl": jl("[1]")}, REPORT[:2] + ["s.jsonl"] + REPORT[2:],
     ["s.jsonl:1", "JSON object"]),
    ("report-top-q-2", {"r.jsonl": jl(GOOD)}, REPORT + ["--top-q", "2"], ["got 2.0"]),
    ("report-output-is-file", {"r.jsonl": jl(GOOD), "rep": "a file\n"}, REPORT, ["rep"]),
]


@pytest.mark.parametrize("files, argv, mentions", [pytest.param(*row[1:], id=row[0]) for row in ROWS])
def test_bad_input_fails_cleanly(tmp_path: Path, capsys, files: dict, argv: list[str], mentions: list[str]):
    write_files(tmp_path, files)
    assert_clean_failure(argv, tmp_path, capsys, mentions)
