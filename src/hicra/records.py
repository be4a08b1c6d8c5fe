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

**Validation** (:func:`validate_rollout`, one policy for every reader: ``hicra mine``/``score``/``analyze``/``judge``/
``report``). A bad record stops the command with ``FILE:LINE: field 'NAME' ...``; nothing is dropped silently:

* required fields must be present (``reward`` is optional only for ``hicra mine``, whose plain corpora have none);
* an optional field that is absent or ``null`` is "not recorded"; a present field must have its type: ``step`` a
  non-negative integer, ``prompt_id`` a string or integer, ``completion`` a string, ``reward`` a finite number
  (NaN, ±Infinity and booleans are errors), ``correct`` true/false, ``completion_ids`` a list of non-negative
  integers;
* ``logprobs``/``entropies`` need ``completion_ids`` and have exactly one entry per completion token; each entry is a
  finite number (log-probabilities <= 0, entropies >= 0) or ``null`` for a token that was not scored; NaN/±Infinity
  are errors. An empty list beside non-empty ``completion_ids`` means "not recorded" (the trainer writes ``[]`` when
  token statistics are off).

**Metrics row**: one JSON object per optimizer step in ``RUN_DIR/metrics.jsonl`` with ``step`` and float metrics;
the trainer documents its keys in :mod:`hicra.engine.metrics`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from hicra.io import DataError, append_jsonl, check_writable, iter_jsonl, read_yaml, write_jsonl

__all__ = ["ROLLOUT_SCHEMA", "ROLLOUT_REQUIRED", "RecordError", "read_jsonl", "validate_rollout", "iter_rollouts",
           "rollouts_path", "read_rollouts", "read_run_config", "append_jsonl", "check_writable", "iter_jsonl", "write_jsonl"]

ROLLOUT_SCHEMA = 1
ROLLOUT_REQUIRED = ("step", "prompt_id", "completion", "reward")


RecordError = DataError  # a bad JSONL record: the message names file, line and field


def read_jsonl(path: str | Path, required: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of ``path`` (:func:`hicra.io.iter_jsonl`); a missing ``required`` field is an error."""
    for lineno, obj in iter_jsonl(path):
        for name in required:
            if name not in obj:
                raise RecordError(f"{path}:{lineno}: missing field {name!r}")
        yield obj


def _fail(error: type[ValueError], where: str, name: str, problem: str) -> ValueError:
    return error(f"{where}: field {name!r} {problem}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _token_ids_ok(ids: Any) -> bool:
    if not isinstance(ids, list):
        return False
    try:  # fast path for a clean list of integers
        arr = np.asarray(ids)
        if arr.ndim == 1 and arr.dtype.kind in "iu" and (not len(arr) or arr.min() >= 0):
            return True
    except (TypeError, ValueError, OverflowError):
        pass
    return all(_is_int(t) and t >= 0 for t in ids)


def _check_token_values(vals: Any, name: str, n: int, where: str, error: type[ValueError]) -> bool:
    """Whether ``vals`` holds per-token values (False: not recorded); raises on a bad list (see module docstring)."""
    if vals is None:
        return False
    if not isinstance(vals, list):
        raise _fail(error, where, name, f"must be a list of numbers, got {type(vals).__name__}")
    if not vals and n:
        return False
    if len(vals) != n:
        raise _fail(error, where, name, f"has {len(vals)} values but 'completion_ids' has {n}")
    try:  # fast path: a clean list of numbers; anything else is located entry by entry below
        arr = np.asarray(vals)  # no dtype: strings such as "-0.5" must not pass as numbers
        if arr.ndim == 1 and arr.dtype.kind in "fiu" and np.isfinite(arr).all() and ((arr <= 1e-4).all() if name == "logprobs" else (arr >= -1e-4).all()):
            return True
    except (TypeError, ValueError):
        pass
    for i, v in enumerate(vals):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _fail(error, where, name, f"must be a list of numbers; entry {i} is {v!r}")
        if not math.isfinite(v):
            raise _fail(error, where, name, f"entry {i} is {v!r}; values must be finite")
        if (v > 1e-4) if name == "logprobs" else (v < -1e-4):
            raise _fail(error, where, name, f"entry {i} is {v!r}; "
                        + ("log-probabilities must be <= 0" if name == "logprobs" else "entropies must be >= 0"))
    return True


def validate_rollout(rec: Any, where: str, required: Sequence[str] = ROLLOUT_REQUIRED,
                     error: type[ValueError] = RecordError) -> dict[str, Any]:
    """Check one rollout record against the policy of the module docstring; returns it (an empty per-token list
    beside non-empty ``completion_ids`` is set to ``None``: not recorded).

    ``where`` is ``FILE:LINE``; a violation raises ``error`` naming it and the field.
    """
    if not isinstance(rec, dict):
        raise error(f"{where}: expected a JSON object, got {type(rec).__name__}")
    for name in required:
        if rec.get(name) is None:
            raise error(f"{where}: missing field {name!r}" if name not in rec else
                        f"{where}: field {name!r} is null")
    step = rec.get("step")
    if step is not None and (not _is_int(step) or step < 0):
        raise _fail(error, where, "step", f"must be a non-negative integer, got {step!r}")
    pid = rec.get("prompt_id")
    if pid is not None and not (isinstance(pid, str) or _is_int(pid)):
        raise _fail(error, where, "prompt_id", f"must be a string or an integer, got {pid!r}")
    if rec.get("completion") is not None and not isinstance(rec["completion"], str):
        raise _fail(error, where, "completion", f"must be a string, got {type(rec['completion']).__name__}")
    reward = rec.get("reward")
    if reward is not None:
        if isinstance(reward, bool) or not isinstance(reward, (int, float)):
            raise _fail(error, where, "reward", f"must be a number, got {reward!r}")
        if not math.isfinite(reward):
            raise _fail(error, where, "reward", f"is {reward!r}; rewards must be finite numbers")
    correct = rec.get("correct")
    if correct is not None and not isinstance(correct, bool):
        raise _fail(error, where, "correct", f"must be true or false, got {correct!r}")
    ids = rec.get("completion_ids")
    if ids is not None and not _token_ids_ok(ids):
        raise _fail(error, where, "completion_ids", "must be a list of non-negative integers")
    for name in ("logprobs", "entropies"):
        vals = rec.get(name)
        if vals is not None and ids is None:
            raise _fail(error, where, name, "needs 'completion_ids' (run `hicra score` first)")
        if not _check_token_values(vals, name, len(ids or ()), where, error) and vals is not None:
            rec[name] = None  # [] beside non-empty completion_ids: not recorded
    return rec


def iter_rollouts(path: str | Path, required: Sequence[str] = ROLLOUT_REQUIRED,
                  error: type[ValueError] = RecordError) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, validated record)`` for each non-blank line of a rollout file (:func:`validate_rollout`)."""
    lines = iter_jsonl(path)
    while True:
        try:
            lineno, rec = next(lines)
        except StopIteration:
            return
        except DataError as e:  # a line the reader refuses, reported as ``error`` like a bad field
            raise e if isinstance(e, error) else error(str(e)) from None
        yield lineno, validate_rollout(rec, f"{path}:{lineno}", required, error)


def rollouts_path(path: str | Path) -> Path:
    """``RUN_DIR`` → ``RUN_DIR/rollouts.jsonl``; a file path stays as it is."""
    path = Path(path)
    return path / "rollouts.jsonl" if path.is_dir() else path


def read_rollouts(path: str | Path) -> list[dict[str, Any]]:
    """All rollout records of a file (or of ``RUN_DIR/rollouts.jsonl`` when given a run directory)."""
    return [rec for _, rec in iter_rollouts(rollouts_path(path))]


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """The ``config.yaml`` of a run directory as a mapping (``{}`` when the run has none)."""
    path = Path(run_dir) / "config.yaml"
    return read_yaml(path, empty={}) if path.is_file() else {}
