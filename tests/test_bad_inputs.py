"""Bad input to ``hicra train``, ``eval``, ``grade`` and their configs: one line naming the culprit, nothing lost.

One row per case: the files it starts from (paths relative to the test's folder), the command line, and what the
error line must mention. :func:`badinput.assert_clean_failure` runs the command in-process and checks the exit
status, the single ``hicra CMD: error: …`` line, and that no file was changed or created. Every train row fails
before a model is loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from badinput import assert_clean_failure, write_files

OLD_LOGS = {"run/metrics.jsonl": '{"step": 1, "loss": 0.5}\n', "run/rollouts.jsonl": '{"step": 0, "prompt_id": "a"}\n'}
GOOD_PROBLEMS = '{"problem": "1 + 1?", "answer": "2"}\n'


@dataclass
class Case:
    id: str
    argv: list[str]
    mentions: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)


TRAIN = [
    Case("non-empty output dir is refused before the model loads", ["train", "--output-dir", "run", "--model",
         "no-such-model"], ["run is not empty", "--resume run", "--overwrite"], OLD_LOGS),
    Case("--overwrite removes nothing when the model fails to load", ["train", "--output-dir", "run", "--overwrite",
         "--model", "no-such-model"], ["no-such-model"], OLD_LOGS),
    Case("unknown model names the model", ["train", "--output-dir", "new", "--model", "no-such-model"],
         ["cannot load tokenizer 'no-such-model'"]),
    Case("--resume and --overwrite together", ["train", "--resume", "run", "--overwrite"], ["--resume", "--overwrite"],
         {**OLD_LOGS, "run/config.yaml": "method: hicra\n"}),
    Case("resume into another output dir", ["train", "--resume", "run", "--output-dir", "other"],
         ["--resume run", "--output-dir other"], {**OLD_LOGS, "run/config.yaml": "method: hicra\n"}),
    Case("resume of a folder that is no run", ["train", "--resume", "run"], ["run", "no config.yaml"], OLD_LOGS),
    Case("resume of a torn config.yaml", ["train", "--resume", "run"], ["run/config.yaml", "invalid YAML"],
         {**OLD_LOGS, "run/config.yaml": "method: hicra\nhicra_alpha: 0.2\nmodel smollm2\n"}),
    Case("resume of a killed run whose model is gone keeps its torn logs",
         ["train", "--resume", "run"], ["no-such-model"],
         {"run/config.yaml": "model: no-such-model\nmax_steps: 4\n",
          "run/metrics.jsonl": '{"step": 1}\n{"step": 2, "lo',
          "run/rollouts.jsonl": '{"step": 0, "prompt_id": "a"}\n{"step": 1, "pro',
          "run/checkpoint-2/config.json": "{"}),
    Case("output dir under a regular file", ["train", "--output-dir", "afile/run"], ["afile/run", "is a file"],
         {"afile": "x"}),
    Case("NaN alpha", ["train", "--hicra-alpha", "nan"], ["--hicra-alpha", "finite"]),
    Case("alpha 1 flips negative advantages", ["train", "--hicra-alpha", "1"], ["--hicra-alpha", "[0, 1)"]),
    Case("negative alpha", ["train", "--hicra-alpha", "-0.5"], ["--hicra-alpha", "[0, 1)"]),
    Case("inf learning rate", ["train", "--learning-rate", "inf"], ["--learning-rate", "finite"]),
    Case("inherited TRL float out of range", ["train", "--top-p", "1.5"], ["--top-p", "(0, 1]"]),
    Case("inherited TRL float NaN", ["train", "--beta", "nan"], ["--beta", "finite"]),
    Case("zero temperature", ["train", "--temperature", "0"], ["--temperature", "> 0"]),
    Case("zero max steps", ["train", "--max-steps", "0"], ["--max-steps", ">= 1"]),
    Case("zero batch size", ["train", "--per-device-train-batch-size", "0"], ["--per-device-train-batch-size"]),
    Case("one generation per group", ["train", "--num-generations", "1"], ["--num-generations", ">= 2"]),
    Case("negative grading timeout", ["train", "--grading-timeout", "-1"], ["--grading-timeout"]),
    Case("text for an int", ["train", "--max-steps", "ten"], ["--max-steps", "ten"]),
    Case("unknown method", ["train", "--method", "ppo"], ["--method", "ppo"]),
    Case("gym options not a mapping", ["train", "--gym-options", "5"], ["--gym-options", "mapping"]),
    Case("gym options of a task not a mapping", ["train", "--gym-options", '{"basic_arithmetic": 5}'],
         ["--gym-options", "dict values"]),
    Case("gym options broken JSON", ["train", "--gym-options", '{"basic_arithmetic": '], ["--gym-options", "JSON"]),
    Case("YAML gym_options: 5", ["train", "--config", "c.yaml"], ["c.yaml", "gym_options", "mapping"],
         {"c.yaml": "gym_options: 5\n"}),
    Case("YAML NaN", ["train", "--config", "c.yaml"], ["c.yaml", "hicra_alpha", "finite"],
         {"c.yaml": "hicra_alpha: .nan\n"}),
    Case("YAML wrong type", ["train", "--config", "c.yaml"], ["c.yaml", "max_steps", "int"],
         {"c.yaml": "max_steps: many\n"}),
    Case("YAML unknown field", ["train", "--config", "c.yaml"], ["c.yaml", "hicra_alfa"],
         {"c.yaml": "hicra_alfa: 1\n"}),
    Case("YAML broken", ["train", "--config", "c.yaml"], ["c.yaml:2", "invalid YAML"], {"c.yaml": "a: 1\n b: [\n"}),
    Case("YAML empty list of mappings", ["train", "--config", "c.yaml"], ["c.yaml", "mapping"], {"c.yaml": "- 1\n"}),
    Case("missing YAML", ["train", "--config", "nope.yaml"], ["nope.yaml"]),
    Case("YAML not UTF-8", ["train", "--config", "c.yaml"], ["c.yaml", "UTF-8"], {"c.yaml": b"method: \xff\n"}),
    Case("lexicon not UTF-8", ["train", "--output-dir", "new", "--lexicon", "sg.txt"], ["sg.txt", "UTF-8"],
         {"sg.txt": b"but wait\n\xff\n"}),
    Case("missing dataset file", ["train", "--output-dir", "new", "--dataset", "data.jsonl"], ["data.jsonl"]),
    Case("empty dataset file", ["train", "--output-dir", "new", "--dataset", "data.jsonl"],
         ["data.jsonl", "no problems"],
         {"data.jsonl": ""}),
    Case("dataset line 2 broken", ["train", "--output-dir", "new", "--dataset", "data.jsonl"],
         ["data.jsonl:2", "invalid JSON"], {"data.jsonl": GOOD_PROBLEMS + '{"problem": \n'}),
    Case("dataset line 3 has no answer", ["train", "--output-dir", "new", "--dataset", "data.jsonl"],
         ["data.jsonl: line 3", "no reference answer"], {"data.jsonl": GOOD_PROBLEMS + "\n" + '{"problem": "x"}\n'}),
    Case("dataset not UTF-8", ["train", "--output-dir", "new", "--dataset", "data.jsonl"], ["data.jsonl:2", "UTF-8"],
         {"data.jsonl": GOOD_PROBLEMS.encode() + b'{"problem": "\xff"}\n'}),
    Case("JSON dataset of numbers", ["train", "--output-dir", "new", "--dataset", "data.json"],
         ["data.json", "row 1", "object"], {"data.json": "[1, 2]"}),
    Case("unknown gym task", ["train", "--output-dir", "new", "--dataset", "gym:no_such_task"], ["no_such_task"]),
    Case("missing lexicon", ["train", "--output-dir", "new", "--lexicon", "sg.json"], ["sg.json"]),
]

EVAL = [
    Case("samples zero", ["eval", "--samples", "0", "--output", "o"], ["--samples", ">= 1"]),
    Case("samples neither auto nor a number", ["eval", "--samples", "many", "--output", "o"], ["--samples", "many"]),
    Case("NaN top-p", ["eval", "--top-p", "nan", "--output", "o"], ["--top-p", "finite"]),
    Case("negative temperature", ["eval", "--temperature", "-1", "--output", "o"], ["--temperature", ">= 0"]),
    Case("zero limit", ["eval", "--limit", "0", "--output", "o"], ["--limit", ">= 1"]),
    Case("inf grade timeout", ["eval", "--grade-timeout", "inf", "--output", "o"], ["--grade-timeout", "finite"]),
    Case("unknown benchmark", ["eval", "--benchmarks", "gsm9k", "--output", "o"], ["gsm9k"]),
    Case("YAML benchmarks: 5", ["eval", "--config", "e.yaml", "--output", "o"], ["e.yaml", "benchmarks", "list"],
         {"e.yaml": "benchmarks: 5\n"}),
    Case("YAML samples: -2", ["eval", "--config", "e.yaml", "--output", "o"], ["e.yaml", "samples", ">= 1"],
         {"e.yaml": "samples: -2\n"}),
    Case("YAML samples: 4.5", ["eval", "--config", "e.yaml", "--output", "o"], ["--samples", "4.5"],
         {"e.yaml": "samples: 4.5\n"}),
    Case("unknown dtype", ["eval", "--dtype", "int8", "--output", "o"], ["--dtype", "int8"]),
    Case("YAML unknown dtype", ["eval", "--config", "e.yaml", "--output", "o"], ["e.yaml", "dtype", "int8"],
         {"e.yaml": "dtype: int8\n"}),
    Case("YAML unknown method", ["train", "--config", "c.yaml"], ["c.yaml", "method", "ppo"],
         {"c.yaml": "method: ppo\n"}),
    Case("bad auto-samples entry", ["eval", "--auto-samples", "aime24", "--output", "o"], ["--auto-samples", "aime24"]),
    Case("no output", ["eval", "--benchmarks", "gsm8k"], ["--output"]),
    Case("output under a regular file", ["eval", "--benchmarks", "gsm8k", "--output", "afile/o"],
         ["afile/o", "is a file"], {"afile": "x"}),
    Case("torn settings.json", ["eval", "--benchmarks", "gsm8k", "--output", "o"], ["o/settings.json", "invalid JSON"],
         {"o/settings.json": '{"model": "smol'}),
    Case("other settings", ["eval", "--benchmarks", "gsm8k", "--temperature", "1", "--output", "o"],
         ["temperature=0.6", "temperature=1.0"], {"o/settings.json": json.dumps({"temperature": 0.6})}),
    Case("unreadable cached generation mid-file", ["eval", "--benchmarks", "gsm8k", "--limit", "2", "--output", "o"],
         ["o/generations/gsm8k.jsonl:1"], {"o/generations/gsm8k.jsonl": '{"problem_id": 1\n{"problem_id": "2"}\n'}),
    Case("unknown model leaves no settings.json", ["eval", "--model", "no-such-model", "--benchmarks", "gsm8k",
         "--limit", "1", "--output", "o"], ["no-such-model"]),
    Case("missing eval config", ["eval", "--config", "e.yaml", "--output", "o"], ["e.yaml"]),
    Case("compare a results.json that is not UTF-8", ["eval", "--compare", "a", "b"], ["a/results.json", "UTF-8"],
         {"a/results.json": b"\xff", "b/results.json": "{}"}),
    Case("compare a folder without results", ["eval", "--compare", "a", "b"], ["a/results.json"], {"b/x": ""}),
]

GRADE = [
    Case("timeout NaN", ["grade", "--pred", "x", "--gold", "1", "--timeout", "nan"], ["--timeout", "finite"]),
    Case("timeout zero", ["grade", "--pred", "x", "--gold", "1", "--timeout", "0"], ["--timeout", "(0, 3600]"]),
    Case("timeout negative", ["grade", "--pred", "x", "--gold", "1", "--timeout", "-1"], ["--timeout", "(0, 3600]"]),
    Case("timeout of 1e300 seconds", ["grade", "--pred", "x", "--gold", "1", "--timeout", "1e300"],
         ["--timeout", "(0, 3600]"]),
    Case("a thousand workers", ["grade", "--pred", "x", "--gold", "1", "--workers", "1000"], ["--workers", "64"]),
    Case("zero workers", ["grade", "--pred", "x", "--gold", "1", "--workers", "0"], ["--workers", "[1, 64]"]),
    Case("no --pred", ["grade", "--gold", "1"], ["--pred"]),
    Case("text prediction without gold", ["grade", "--pred", "x"], ["--gold"]),
    Case("missing gold file", ["grade", "--pred", "x", "--gold", "gold.jsonl"], ["gold.jsonl", "no such file"]),
    Case("missing prediction .json", ["grade", "--pred", "preds.json", "--gold", "1"], ["preds.json", "no such file"]),
    Case("missing prediction in a folder", ["grade", "--pred", "d/preds", "--gold", "1"], ["d/preds", "no such file"],
         {"d/keep.txt": ""}),
    Case("null answer", ["grade", "--pred", "p.jsonl"], ["p.jsonl:2", "'answer'", "null"],
         {"p.jsonl": '{"completion": "\\\\boxed{1}", "answer": "1"}\n'
                     '{"completion": "\\\\boxed{None}", "answer": null}\n'}),
    Case("missing answer field", ["grade", "--pred", "p.jsonl"], ["p.jsonl:1", "'answer'"],
         {"p.jsonl": '{"completion": "\\\\boxed{1}"}\n'}),
    Case("list as completion", ["grade", "--pred", "p.jsonl", "--gold", "1"], ["p.jsonl:1", "'completion'"],
         {"p.jsonl": '{"completion": ["a"]}\n'}),
    Case("broken JSON line", ["grade", "--pred", "p.jsonl", "--gold", "1"], ["p.jsonl:3", "invalid JSON"],
         {"p.jsonl": '{"completion": "1"}\n\n{"completion": \n'}),
    Case("not UTF-8", ["grade", "--pred", "p.jsonl", "--gold", "1"], ["p.jsonl:1", "UTF-8"],
         {"p.jsonl": b"\xff\xfe\n"}),
    Case("gold file of another length", ["grade", "--pred", "p.jsonl", "--gold", "g.jsonl"], ["p.jsonl", "g.jsonl"],
         {"p.jsonl": '{"completion": "1"}\n{"completion": "2"}\n', "g.jsonl": '{"answer": "1"}\n'}),
    Case("output under a regular file", ["grade", "--pred", "p.jsonl", "--gold", "1", "--output", "afile/v.jsonl"],
         ["afile/v.jsonl", "is a file"], {"p.jsonl": '{"completion": "1"}\n', "afile": "x"}),
]


STUDY = [
    Case("unknown method is refused before any run trains", ["study", "--methods", "hicra,ppo", "--output", "s"],
         ["--methods", "'ppo'"]),
    Case("method listed twice", ["study", "--methods", "hicra,hicra", "--output", "s"], ["--methods", "twice"]),
    Case("negative seed", ["study", "--seeds", "0,-1", "--output", "s"], ["--seeds", "-1"]),
    Case("seed that is not a number", ["study", "--seeds", "0,one", "--output", "s"], ["--seeds", "one"]),
    Case("no study directory", ["study", "--methods", "hicra,grpo"], ["--output"]),
    Case("per-run flag", ["study", "--output", "s", "--method", "grpo"], ["--method", "--methods"]),
    Case("per-run flag with =", ["study", "--output", "s", "--output-dir=x"], ["--output-dir", "--output"]),
    Case("pass@k above the samples", ["study", "--output", "s", "--heldout-samples", "2", "--pass-k", "4"],
         ["--pass-k", "4"]),
    Case("confidence 1", ["study", "--output", "s", "--confidence", "1"], ["--confidence"]),
    Case("NaN held-out temperature", ["study", "--output", "s", "--heldout-temperature", "nan"],
         ["--heldout-temperature", "finite"]),
    Case("unknown training flag", ["study", "--output", "s", "--max-stepz", "3"], ["--max-stepz"]),
    Case("bad training value", ["study", "--output", "s", "--hicra-alpha", "1.5"], ["--hicra-alpha", "[0, 1)"]),
    Case("torn study.yaml", ["study", "--output", "s", "--preset", "smoke"], ["s/study.yaml", "invalid YAML"],
         {"s/study.yaml": "format: hicra-study\nmethods: [hicra\n"}),
    Case("study made with other settings", ["study", "--output", "s", "--preset", "smoke", "--heldout-size", "3"],
         ["heldout_size=8", "heldout_size=3"],
         {"s/study.yaml": "format: hicra-study\nmethods: [hicra, grpo]\nevaluation: {heldout_size: 8}\n"}),
    Case("study directory is a file", ["study", "--output", "afile", "--preset", "smoke"], ["afile"], {"afile": "x"}),
]


@pytest.mark.parametrize("case", TRAIN + EVAL + GRADE + STUDY, ids=lambda c: f"{c.argv[0]}: {c.id}")
def test_bad_input_fails_cleanly(case: Case, tmp_path, capsys):
    write_files(tmp_path, case.files)
    assert_clean_failure(case.argv, tmp_path, capsys, case.mentions)
