"""The argv of a seconds-long study of the tiny model (``tiny_model_dir``, ``tiny_lexicon``: tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def study_argv(tiny_model_dir, tiny_lexicon):
    """``hicra study`` arguments: hicra,grpo × seeds 0,1, 2 steps per run with a checkpoint every step, 4 held-out
    problems × 2 samples; keyword arguments replace or add ``--flag value`` pairs."""

    def make(out: Path, **extra: str) -> list[str]:
        flags = {"model": str(tiny_model_dir), "lexicon": str(tiny_lexicon),
                 "dataset": "gym:basic_arithmetic,chain_sum",
                 "dataset-size": "16", "num-generations": "2", "per-device-train-batch-size": "4",
                 "gradient-accumulation-steps": "1", "max-completion-length": "10", "max-steps": "2",
                 "save-steps": "1", "report-to": "none", "torch-threads": "1", "optim": "adamw_torch",
                 "temperature": "1.0", "heldout-size": "4", "heldout-samples": "2", "pass-k": "1,2", "bootstrap": "200",
                 **extra}
        argv = ["study", "--methods", "hicra,grpo", "--seeds", "0,1", "--output", str(out), "--use-cpu",
                "--disable-tqdm"]
        for k, v in flags.items():
            argv += [f"--{k}", v]
        return argv

    return make
