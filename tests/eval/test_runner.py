"""``hicra eval`` orchestration with a scripted backend: caching, resume after a crash, bad caches, settings."""

from __future__ import annotations

import json
import os

import pytest

from hicra.cli import main
from hicra.eval.backends import Completion
from hicra.eval.benchmarks import load_problems
from hicra.eval.runner import EvalConfig, read_cache, run, samples_for
from hicra.records import RecordError


class PlainTokenizer:
    chat_template = None


class ScriptedBackend:
    """Answers correctly on even samples; can fail after ``crash_after`` chunks (a simulated crash)."""

    tokenizer = PlainTokenizer()

    def __init__(self, crash_after: int | None = None, chunk: int = 2) -> None:
        self.crash_after, self.chunk, self.calls = crash_after, chunk, []
        self.references = {p.id: p.reference for p in load_problems("gsm8k", limit=10)}

    def generate(self, requests, sampling):
        self.calls.append([r.key for r in requests])
        for n, start in enumerate(range(0, len(requests), self.chunk)):
            if self.crash_after is not None and n >= self.crash_after:
                raise RuntimeError("simulated crash")
            yield [Completion(r.key, rf"so \boxed{{{self.references[r.key[0]] if r.key[1] % 2 == 0 else -1}}}", 7, True)
                   for r in requests[start:start + self.chunk]]


def _config(tmp_path, **kw) -> EvalConfig:
    return EvalConfig(**{"benchmarks": ["gsm8k"], "limit": 3, "samples": "2", "output": str(tmp_path), **kw})


def test_samples_auto_follows_the_paper_and_is_configurable():
    config = EvalConfig()
    assert [samples_for(config, b) for b in ("aime24", "aime25", "amc23", "math500")] == [32, 32, 4, 1]
    assert samples_for(EvalConfig(auto_samples=["math500=8"]), "math500") == 8
    assert samples_for(EvalConfig(samples="3"), "aime24") == 3
    for bad in (EvalConfig(samples="many"), EvalConfig(samples="0"), EvalConfig(auto_samples=["aime24"])):
        with pytest.raises(ValueError):
            samples_for(bad, "aime24")


def test_run_writes_all_outputs_and_rerun_generates_nothing(tmp_path):
    backend = ScriptedBackend()
    doc = run(_config(tmp_path), backend)
    assert doc["benchmarks"]["gsm8k"]["pass@1"] == 50.0 and doc["benchmarks"]["gsm8k"]["problems"] == 3
    for name in ("settings.json", "results.json", "results.csv", "results.md", "generations/gsm8k.jsonl",
                 "graded/gsm8k.jsonl"):
        assert (tmp_path / name).is_file(), name
    graded = [json.loads(x) for x in (tmp_path / "graded" / "gsm8k.jsonl").read_text().splitlines()]
    assert [g["correct"] for g in graded] == [True, False] * 3
    run(_config(tmp_path), backend)
    assert len(backend.calls) == 1  # everything came from the cache
    run(_config(tmp_path, samples="3"), backend)  # more samples: only the new ones are generated
    assert sorted(backend.calls[1]) == [("0", 2), ("1", 2), ("2", 2)]


def test_resume_after_a_crash_has_no_duplicates(tmp_path):
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(_config(tmp_path), ScriptedBackend(crash_after=2))
    assert len(read_cache(tmp_path / "generations" / "gsm8k.jsonl")) == 4
    backend = ScriptedBackend()
    run(_config(tmp_path), backend)
    assert len(backend.calls[0]) == 2
    lines = (tmp_path / "generations" / "gsm8k.jsonl").read_text().splitlines()
    keys = [(json.loads(x)["problem_id"], json.loads(x)["sample"]) for x in lines]
    assert len(keys) == len(set(keys)) == 6


def test_torn_last_line_is_dropped_and_regenerated(tmp_path, capsys):
    run(_config(tmp_path), ScriptedBackend())
    path = tmp_path / "generations" / "gsm8k.jsonl"
    data = path.read_text()
    path.write_text(data[:-25])  # crash in the middle of the last append
    assert len(read_cache(path)) == 5
    assert "dropped an incomplete last line" in capsys.readouterr().err
    backend = ScriptedBackend()
    run(_config(tmp_path), backend)
    assert backend.calls == [[("2", 1)]] and len(path.read_text().splitlines()) == 6


def test_broken_cache_line_is_one_clear_error(tmp_path, capsys):
    run(_config(tmp_path), ScriptedBackend())
    path = tmp_path / "generations" / "gsm8k.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = '{"problem_id": "1", "sample": 0'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordError, match=r"gsm8k.jsonl:3: unreadable cached generation"):
        read_cache(path)
    capsys.readouterr()
    code = main(["eval", "--benchmarks", "gsm8k", "--limit", "3", "--samples", "2", "--output", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "gsm8k.jsonl:3: unreadable cached generation" in err[0]


def test_bad_inputs_are_one_line(tmp_path, capsys):
    assert main(["eval", "--benchmarks", "math500,gsm9k", "--output", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == ("hicra eval: error: --benchmarks: unknown benchmark 'gsm9k'; valid: "
                                               "aime24, aime25, "
                                               "math500, amc23, minerva, olympiad, gsm8k")
    run(_config(tmp_path), ScriptedBackend())
    assert main(["eval", "--benchmarks", "gsm8k", "--temperature", "1.0", "--output", str(tmp_path)]) == 1
    assert "made with temperature=0.6, this run asks temperature=1.0" in capsys.readouterr().err
    assert main(["eval", "--benchmarks", "gsm8k"]) == 1
    assert "--output DIR is required" in capsys.readouterr().err
    assert main(["eval", "--benchmarks", "gsm8k", "--top-p", "1.5", "--output", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == "hicra eval: error: --top-p must be in (0, 1], got 1.5"


def test_a_failed_start_leaves_no_settings_and_a_busy_folder_is_refused(tmp_path, capsys):
    from hicra.eval.runner import lock_output

    out = tmp_path / "out"
    out.mkdir()
    assert main(["eval", "--model", str(tmp_path / "no-model"), "--benchmarks", "gsm8k", "--limit", "1",
                 "--output", str(out)]) == 1
    assert "cannot load tokenizer" in capsys.readouterr().err
    assert list(out.iterdir()) == []  # no settings.json to refuse the next run with
    run(_config(out), ScriptedBackend())  # the next run into that folder works
    assert (out / "settings.json").is_file()
    capsys.readouterr()
    with lock_output(out):  # another evaluation holds the folder
        assert main(["eval", "--benchmarks", "gsm8k", "--limit", "2", "--output", str(out)]) == 1
        err = capsys.readouterr().err.strip()
        assert err == f"hicra eval: error: {out} is in use by another hicra eval (pid {os.getpid()})"
    assert not (out / ".hicra.lock").exists()


def test_yaml_config_then_flags(tmp_path):
    from hicra.cli import build_parser
    from hicra.config import build_config

    path = tmp_path / "eval.yaml"
    path.write_text("benchmarks: [gsm8k, amc23]\nsamples: 4\ntemperature: 1\nlimit: 5\n")
    args = build_parser().parse_args(["eval", "--config", str(path), "--temperature", "0.8", "--output", "x"])
    config = build_config(EvalConfig, args)
    assert (config.benchmarks, config.limit, config.temperature, config.output) == (["gsm8k", "amc23"], 5, 0.8, "x")
    assert samples_for(config, "gsm8k") == 4


def test_samples_flag_takes_auto_or_a_number():
    from hicra.cli import build_parser
    from hicra.config import build_config

    for flag, want in (("auto", "auto"), ("3", 3)):
        args = build_parser().parse_args(["eval", "--samples", flag, "--output", "x"])
        assert build_config(EvalConfig, args).samples == want
