"""Rollout inputs of the analysis: run directories, the prompt groups and correctness of records, stable keys.

The analysis needs only ``step``, ``prompt_id``, ``completion`` and ``reward``; the optional per-token fields
``completion_ids``, ``logprobs``, ``entropies`` are used when present. Records are read and validated by
:func:`hicra.records.iter_rollouts` (one policy for every command, see :mod:`hicra.records`). ``planning`` is
ignored: masks are recomputed with the chosen lexicon.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from hicra.importers import import_rollouts
from hicra.records import RecordError, read_run_config


@dataclass(frozen=True)
class RunInfo:
    """Where a run's rollouts are and how to label it (``method`` from ``config.yaml`` when present)."""

    name: str
    rollouts: Path
    method: str
    model: str | None = None
    run_dir: Path | None = None

    @property
    def judgments(self) -> Path:
        """Default judgment cache: ``RUN_DIR/judgments.jsonl`` or ``<file stem>.judgments.jsonl`` beside a file."""
        if self.run_dir is not None:
            return self.run_dir / "judgments.jsonl"
        return self.rollouts.with_name(self.rollouts.stem + ".judgments.jsonl")


def resolve_run(path: str | Path, field_map: str = "") -> RunInfo:
    """A run directory (holding ``rollouts.jsonl``), a rollout JSONL file, or a foreign one (:mod:`hicra.importers`)."""
    path = import_rollouts(path, field_map)
    if path.is_dir():
        rollouts = path / "rollouts.jsonl"
        if not rollouts.is_file():
            raise RecordError(f"{path}: run directory without rollouts.jsonl")
        method, model = path.name, None
        doc = read_run_config(path)
        method = str(doc.get("method") or method)
        model = str(doc["model"]) if doc.get("model") else None
        return RunInfo(path.name, rollouts, method, model, path)
    if not path.is_file():
        raise RecordError(f"{path}: no such run directory or rollout file")
    return RunInfo(path.stem, path, path.stem)


def is_correct(rec: dict[str, Any], threshold: float) -> bool:
    """The record's ``correct`` field, else ``reward >= threshold``."""
    c = rec.get("correct")
    return bool(c) if c is not None else float(rec["reward"]) >= threshold


def group_key(rec: dict[str, Any]) -> tuple[int, str]:
    """The prompt group of a record for Pass@k: ``group_id`` if present, else (step, prompt_id)."""
    gid = rec.get("group_id")
    return (int(rec["step"]), str(gid if gid is not None else rec["prompt_id"]))


class RecordKeys:
    """Stable keys of rollout records: sha1 of (step, prompt_id, completion) plus a duplicate counter.

    The k-th record with the same (step, prompt_id, completion) gets key ``<hash>#k``, so identical completions of
    one group stay distinct and the keys do not depend on line order. ``hicra score`` and the judge cache use them
    to resume.
    """

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, rec: dict[str, Any]) -> str:
        blob = json.dumps([rec["step"], str(rec["prompt_id"]), rec["completion"]], ensure_ascii=False)
        h = hashlib.sha1(blob.encode("utf-8")).hexdigest()[:20]
        k = self._seen.get(h, 0)
        self._seen[h] = k + 1
        return f"{h}#{k}"
