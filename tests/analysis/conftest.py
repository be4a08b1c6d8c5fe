"""Fixtures of the analysis tests: the paper-lexicon tagger on SmolLM2's tokenizer and two synthetic runs."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def paper_tagger(smollm2_tokenizer):
    from hicra.analysis.pipeline import load_tagger

    return load_tagger("paper", "smollm2")


@pytest.fixture(scope="session")
def synthetic_runs(tmp_path_factory, paper_tagger):
    """Two small run directories (methods hicra and grpo) with every rollout field filled in."""
    from hicra.analysis.synthetic import write_synthetic_run

    root = tmp_path_factory.mktemp("runs")
    return [write_synthetic_run(root / "run_a", paper_tagger.tokenizer, paper_tagger, method="hicra", steps=5, seed=0),
            write_synthetic_run(root / "run_b", paper_tagger.tokenizer, paper_tagger, method="grpo", steps=5, seed=1)]
