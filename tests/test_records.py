"""One validation policy for every reader of rollout records (hicra.records.validate_rollout), torn tails, UTF-8."""

import json

import pytest

from hicra.io import repair_tail
from hicra.records import RecordError, iter_jsonl, iter_rollouts, validate_rollout

GOOD = {"step": 0, "prompt_id": "p", "completion": "Wait, 2.", "reward": 1.0}
SCORED = {**GOOD, "completion_ids": [5, 6], "logprobs": [-0.5, -1.0], "entropies": [0.2, 1.5]}


@pytest.mark.parametrize("line, field", [
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": NaN}', "reward"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": Infinity}', "reward"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": -Infinity}', "reward"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": true}', "reward"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": null}', "reward"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": 1, "correct": "yes"}', "correct"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": 1, "completion_ids": [1, 2], '
     '"logprobs": [-1.0, NaN]}', "logprobs"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": 1, "completion_ids": [1, 2], '
     '"entropies": [Infinity, 0.1]}', "entropies"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": 1, "completion_ids": [1], "logprobs": [0.7]}',
     "logprobs"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": 1, "completion_ids": [1], "entropies": [-2]}',
     "entropies"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": 1, "completion_ids": [1], "logprobs": [true]}',
     "logprobs"),
    ('{"step": 0, "prompt_id": "p", "completion": "x", "reward": 1, "completion_ids": [-1]}', "completion_ids"),
    ('{"step": 0, "prompt_id": [1], "completion": "x", "reward": 1}', "prompt_id"),
    ('{"step": 1.5, "prompt_id": "p", "completion": "x", "reward": 1}', "step"),
])
def test_bad_values_name_file_line_and_field(tmp_path, line, field):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(RecordError) as e:
        list(iter_rollouts(path))
    assert str(e.value).startswith(f"{path}:2: field '{field}'")


def test_good_records_pass_and_unscored_tokens_stay_allowed():
    assert validate_rollout(dict(SCORED), "f:1") == SCORED
    assert validate_rollout({**SCORED, "logprobs": [None, -1.0]}, "f:1")["logprobs"] == [None, -1.0]
    # the trainer writes [] when token statistics are off: not recorded, not a length mismatch
    assert validate_rollout({**SCORED, "logprobs": [], "entropies": []}, "f:1")["logprobs"] is None
    assert validate_rollout({"completion": "x"}, "f:1", required=()) == {"completion": "x"}
    with pytest.raises(RecordError, match="f:1: missing field 'reward'"):
        validate_rollout({"step": 0, "prompt_id": "p", "completion": "x"}, "f:1")


def test_non_utf8_input_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + '{"text": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(RecordError, match=rf"^{path}:2: not UTF-8 text"):
        list(iter_jsonl(path))


def test_repair_tail_cuts_only_an_unparseable_last_line_and_completes_a_valid_one(tmp_path, capsys):
    path = tmp_path / "out.jsonl"
    whole = json.dumps(GOOD) + "\n"
    path.write_text(whole + '{"step": 0, "prom', encoding="utf-8")
    repair_tail(path)
    assert path.read_text(encoding="utf-8") == whole and "incomplete last line" in capsys.readouterr().err
    repair_tail(path)
    assert path.read_text(encoding="utf-8") == whole and not capsys.readouterr().err
    path.write_text(whole + json.dumps(GOOD), encoding="utf-8")  # complete, only the newline is missing: kept
    repair_tail(path)
    assert path.read_text(encoding="utf-8") == whole * 2 and not capsys.readouterr().err
    path.write_text('{"a', encoding="utf-8")  # a single torn line: nothing survives
    repair_tail(path)
    assert path.read_bytes() == b""
    repair_tail(tmp_path / "missing.jsonl")
    assert not (tmp_path / "missing.jsonl").exists()
