"""``metrics.jsonl`` rows and the resume rule of a run directory's two logs, for every engine.

A metrics row's ``step`` is the number of optimizer updates done *after* the step (1 for the first step, as TRL and
verl count their steps); a rollout record's ``step`` the number done *before* its batch was sampled (0 first). Resuming
from a checkpoint after N updates therefore keeps rollouts with ``step < N`` and metrics rows with ``step <= N``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from hicra.io import repair_tail, write_jsonl
from hicra.records import read_jsonl


def metrics_row(step: int, values: dict[str, Any]) -> dict[str, Any]:
    """A ``metrics.jsonl`` row: ``step`` then the values, NaN written as ``null``."""
    return {"step": step, **{k: (None if isinstance(v, float) and v != v else v) for k, v in values.items()}}


def truncate_run_logs(run_dir: str | Path, step: int) -> tuple[int, int]:
    """Drop what a run wrote after its checkpoint at ``step`` updates: rollouts sampled at ``step`` or later, metrics
    rows of later steps. Streams each file (constant memory) and first cuts a torn last line (a killed write).
    Returns how many rollouts and metrics rows were dropped."""
    dropped = []
    for name, last in (("rollouts.jsonl", step - 1), ("metrics.jsonl", step)):
        path = Path(run_dir) / name
        count = [0]
        if path.is_file():
            repair_tail(path)
            write_jsonl(path, _kept(path, last, count))
        dropped.append(count[0])
    return dropped[0], dropped[1]


def _kept(path: Path, last: int, dropped: list[int]) -> Iterator[dict[str, Any]]:
    for row in read_jsonl(path, ("step",)):
        if int(row["step"]) <= last:
            yield row
        else:
            dropped[0] += 1
