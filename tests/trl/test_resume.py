"""Resume after SIGKILL: the rollout log and metrics end with no lost and no duplicated record, and on CPU with a
fixed seed the resumed run's records equal an uninterrupted run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TIMING = {"step_time", "train_runtime", "train_samples_per_second", "train_steps_per_second"}


def _cli(tiny_model_dir, tiny_lexicon, run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hicra.cli", "train", "--model", str(tiny_model_dir), "--lexicon", str(tiny_lexicon),
            "--dataset", "gym:basic_arithmetic,chain_sum", "--dataset-size", "24", "--num-generations", "2",
            "--per-device-train-batch-size", "8", "--gradient-accumulation-steps", "1",
            "--max-completion-length", "24", "--max-steps", "10",
            "--save-steps", "2", "--save-total-limit", "10", "--report-to", "none", "--torch-threads", "1",
            "--use-cpu", "--seed", "11", "--optim", "adamw_torch", "--temperature", "1.0", "--learning-rate", "0.01",
            "--entropy-coef", "0.5", "--disable-tqdm", "--output-dir", str(run_dir), *extra]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _env() -> dict:
    return {**os.environ, "PYTHONHASHSEED": "0", "TOKENIZERS_PARALLELISM": "false"}


def test_resume_after_sigkill_has_no_lost_or_duplicated_records(tiny_model_dir, tiny_lexicon, tmp_path):
    full, killed = tmp_path / "full", tmp_path / "killed"
    subprocess.run(_cli(tiny_model_dir, tiny_lexicon, full), check=True, env=_env(), capture_output=True)

    proc = subprocess.Popen(_cli(tiny_model_dir, tiny_lexicon, killed), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    metrics = killed / "metrics.jsonl"
    while time.monotonic() < deadline and proc.poll() is None:
        if metrics.is_file() and len(metrics.read_text().splitlines()) >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    steps_before = len(_rows(metrics))
    assert steps_before < 10

    done = subprocess.run(_cli(tiny_model_dir, tiny_lexicon, killed, "--resume", str(killed)), env=_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "resumed from step" in done.stdout

    got, want = _rows(killed / "rollouts.jsonl"), _rows(full / "rollouts.jsonl")
    keys = [(r["step"], r["group_id"], tuple(r["completion_ids"])) for r in got]
    assert len(set(keys)) == len(keys) == len(want) == 10 * 8  # every step's 8 completions, once
    assert got == want  # same completions, rewards, log-probs, entropies, planning masks
    got_m, want_m = _rows(killed / "metrics.jsonl"), _rows(full / "metrics.jsonl")
    assert [r["step"] for r in got_m] == list(range(1, 11))
    strip = [{k: v for k, v in r.items() if k not in TIMING} for r in got_m]
    assert strip == [{k: v for k, v in r.items() if k not in TIMING} for r in want_m]
