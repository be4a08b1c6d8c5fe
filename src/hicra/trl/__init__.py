"""TRL adapter of hicra (arXiv 2509.03646): :class:`HICRAConfig` and :class:`HICRATrainer` on ``trl==1.16``.

Imported lazily so that ``hicra --help`` does not load TRL; ``from hicra.trl import HICRATrainer`` works as usual.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HICRAConfig", "HICRATrainer"]


def __getattr__(name: str) -> Any:
    if name == "HICRAConfig":
        from hicra.trl.config import HICRAConfig

        return HICRAConfig
    if name == "HICRATrainer":
        from hicra.trl.trainer import HICRATrainer

        return HICRATrainer
    raise AttributeError(f"module 'hicra.trl' has no attribute {name!r}")
