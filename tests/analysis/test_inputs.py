import json

import pytest

from hicra.analysis.inputs import RecordKeys, is_correct, resolve_run
from hicra.cli import main
from hicra.records import RecordError, iter_rollouts

GOOD = {"step": 0, "prompt_id": "p", "completion": "Wait, 2.", "reward": 1.0}


def _write(tmp_path, *lines):
    path = tmp_path / "r.jsonl"
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("bad, message", [
    ({"step": 0, "prompt_id": "p", "completion": "x"}, "missing field 'reward'"),
    ({**GOOD, "step": -1}, "'step' must be a non-negative integer"),
    ({**GOOD, "step": "3"}, "'step' must be a non-negative integer"),
    ({**GOOD, "reward": "high"}, "'reward' must be a number"),
    ({**GOOD, "completion": 5}, "'completion' must be a string"),
    ({**GOOD, "completion": None}, "field 'completion' is null"),
    ({**GOOD, "logprobs": [-1.0]}, "needs 'completion_ids'"),
    ({**GOOD, "completion_ids": [1, 2], "entropies": [0.1]}, "'entropies' has 1 values but 'completion_ids' has 2"),
    ({**GOOD, "completion_ids": "12"}, "'completion_ids' must be a list of non-negative integers"),
    ("{not json", "invalid JSON"),
    ("[1, 2]", "expected a JSON object"),
])
def test_bad_records_name_file_and_line(tmp_path, bad, message):
    path = _write(tmp_path, GOOD, "", bad)
    with pytest.raises(RecordError, match=message) as e:
        list(iter_rollouts(path))
    assert str(e.value).startswith(f"{path}:3:")


@pytest.mark.parametrize("bad, message", [
    ({**GOOD, "completion_ids": [10**9], "logprobs": [-1.0]}, "out of the tokenizer's range"),
    ({**GOOD, "completion_ids": [1], "logprobs": ["low"]}, "'logprobs' must be a list of numbers"),
    ({"step": 0, "prompt_id": "p", "completion": "x"}, "missing field 'reward'"),
])
def test_cli_reports_one_line_without_traceback(tmp_path, capsys, bad, message):
    path = _write(tmp_path, GOOD, bad)
    assert main(["analyze", str(path), "--output", str(tmp_path / "out"), "--tokenizer", "smollm2"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and f"{path}:2" in err and "Traceback" not in err


def test_cli_errors_for_missing_input_and_bad_options(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope"), "--output", str(tmp_path / "o")]) == 1
    assert "no such run directory or rollout file" in capsys.readouterr().err
    path = _write(tmp_path, GOOD)
    assert main(["analyze", str(path), "--output", str(tmp_path / "o"), "--bucket", "0"]) == 1
    assert "bucket must be >= 1" in capsys.readouterr().err
    assert main(["analyze", str(path), "--output", str(tmp_path / "o"), "--lexicon", str(tmp_path / "x.txt")]) == 1
    assert "no such lexicon file" in capsys.readouterr().err
    (tmp_path / "run").mkdir()
    assert main(["report", str(tmp_path / "run"), "--output", str(tmp_path / "o")]) == 1
    assert "run directory without rollouts.jsonl" in capsys.readouterr().err


def test_record_keys_are_stable_and_distinguish_duplicates():
    keys = RecordKeys()
    a, b, c = keys(GOOD), keys(dict(GOOD)), keys({**GOOD, "step": 1})
    assert a.endswith("#0") and b.endswith("#1") and a[:-2] == b[:-2] and a != c
    assert RecordKeys()(GOOD) == a


def test_resolve_run_reads_method_from_config(tmp_path):
    run = tmp_path / "exp1"
    run.mkdir()
    _write(run, GOOD).rename(run / "rollouts.jsonl")
    assert resolve_run(run).method == "exp1"
    (run / "config.yaml").write_text("method: entropy_reg\nmodel: smollm2\nlr: 1.0e-6\n", encoding="utf-8")
    info = resolve_run(run)
    assert (info.method, info.model, info.judgments) == ("entropy_reg", "smollm2", run / "judgments.jsonl")
    assert resolve_run(run / "rollouts.jsonl").judgments == run / "rollouts.judgments.jsonl"


def test_is_correct_prefers_the_correct_field():
    assert is_correct({**GOOD, "reward": 0.0, "correct": True}, 0.5)
    assert not is_correct({**GOOD, "reward": 0.4}, 0.5) and is_correct({**GOOD, "reward": 0.5}, 0.5)
