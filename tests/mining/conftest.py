"""Fixtures for the mining tests: MATH500 reference solutions, a local OpenAI-compatible test server, MiniLM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mining_llm_server import serve


@pytest.fixture
def llm_server():
    """A local OpenAI-compatible chat server on 127.0.0.1 returning deterministic labels (see mining_llm_server)."""
    yield from serve()


@pytest.fixture(scope="session")
def math500_path(shared_dir) -> Path:
    return shared_dir / "benchmarks" / "math500" / "test.jsonl"


@pytest.fixture(scope="session")
def math500_solutions(math500_path) -> list[str]:
    return [json.loads(line)["solution"] for line in math500_path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 embedder, loaded offline once per session."""
    from hicra.mining.cluster import load_embedder

    return load_embedder("minilm", progress=False)
