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

if _has_verl():
    import pytest

    @pytest.fixture(scope="session")
    def queue():
        """verl's TransferQueue on a local Ray (one per test session)."""
        import ray
        import transfer_queue as tq
        from omegaconf import OmegaConf

        ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
        tq.init(OmegaConf.create({"backend": {"SimpleStorage": {"num_data_storage_units": 1,
                                                                "total_storage_size": 10000}}}))
        yield tq
        tq.close()
        ray.shutdown()
