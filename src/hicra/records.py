"""The records subpackages exchange: rollout records and metrics rows, stored as JSON Lines.

**Rollout record** (schema version 1; one JSON object per completion, written by ``hicra train`` to
``RUN_DIR/rollouts.jsonl`` and read by ``hicra mine``/``score``/``analyze``). Required: ``step``, ``prompt_id``,
``completion``, ``reward``. The trainer writes all of:

==================  ==============  ============================================================================
field               type            meaning
==================  ==============  ============================================================================
schema              int             1
step                int             optimizer step whose policy sampled the completion (0 = initial policy)
prompt_id           str             id of the problem (stable across steps)
group_id            str             id of the GRPO group (same prompt, same generation batch), unique in a run
prompt              str             the prompt text as given to the model (after the chat template)
completion          str             the decoded completion text
completion_ids      list[int]       the exact completion token ids that were optimised
logprobs            list[float]     per-token log-probability under the sampling policy
entropies           list[float]     per-token entropy (nats) of the sampling policy's next-token distribution
planning            list[int]       per-token 1 = planning token (inside a Strategic Gram), 0 = execution
reward              float           total reward used for the advantage
correct             bool            the graded answer was correct
answer              str             reference answer
task                str             data source or reasoning-gym task name
==================  ==============  ============================================================================

**Metrics row**: one JSON object per optimizer step in ``RUN_DIR/metrics.jsonl`` with ``step`` and float metrics;
the trainer documents its keys in :mod:`hicra.trl.metrics`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

ROLLOUT_SCHEMA = 1
ROLLOUT_REQUIRED = ("step", "prompt_id", "completion", "reward")


class RecordError(ValueError):
    """A bad JSONL record; the message names file, line and field."""


def iter_jsonl(path: str | Path, error: type[ValueError] = RecordError) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of ``path``; a bad line raises ``error`` naming it."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such file")
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise error(f"{path}:{lineno}: invalid JSON ({e.msg})") from None
            if not isinstance(obj, dict):
                raise error(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def read_jsonl(path: str | Path, required: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of ``path``; blank lines are skipped; bad lines raise :class:`RecordError`."""
    for lineno, obj in iter_jsonl(path):
        for name in required:
            if name not in obj:
                raise RecordError(f"{path}:{lineno}: missing field {name!r}")
        yield obj


def rollouts_path(path: str | Path) -> Path:
    """``RUN_DIR`` → ``RUN_DIR/rollouts.jsonl``; a file path stays as it is."""
    path = Path(path)
    return path / "rollouts.jsonl" if path.is_dir() else path


def read_rollouts(path: str | Path) -> list[dict[str, Any]]:
    """All rollout records of a file (or of ``RUN_DIR/rollouts.jsonl`` when given a run directory)."""
    return list(read_jsonl(rollouts_path(path), ROLLOUT_REQUIRED))


def append_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Append records durably (flush + fsync) so nothing written is lost on a crash; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("a", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
        f.flush()
        os.fsync(f.fileno())
    return n


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write records to ``path`` atomically (temporary file, then rename); returns the count."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    n = append_jsonl(tmp, records)
    tmp.replace(path)
    return n
