"""Tests of the verl adapter: they run in `.venv-verl` (verl 0.9.1 pins transformers<5.11; `make test` runs both
environments). Without verl (the main environment) this directory is not collected: an import-time skip in a
conftest is a collection error, and a bare ``import verl`` would find this very directory, so look for a module only
the real package has."""

from __future__ import annotations

import importlib.util


def _has_verl() -> bool:
    try:
        return importlib.util.find_spec("verl.protocol") is not None
    except ModuleNotFoundError:
        return False


if not _has_verl():
    collect_ignore_glob = ["*.py"]
