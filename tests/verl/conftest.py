"""Tests of the verl adapter: they run in `.venv-verl` (verl 0.9.1 pins transformers<5.11); skipped without verl."""

from __future__ import annotations

import pytest

pytest.importorskip("verl")
