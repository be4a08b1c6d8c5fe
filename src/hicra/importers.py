"""Rollouts that hicra did not write, read as hicra rollout records (schema of :mod:`hicra.records`).

:func:`import_rollouts` is called wherever a command resolves its rollout input (``analyze``, ``report``, ``judge``,
``mine``, ``score``). Two foreign layouts are understood:

* **verl rollout dumps** — the directory of verl's ``trainer.rollout_data_dir`` (also ``validation_data_dir``):
  one ``{step}.jsonl`` per training step, lines ``{"input", "output", "gts", "score", "step", ...reward extras}``
  (``_write_generations`` of verl 0.9.1's trainers). Mapping: ``output`` → ``completion``, ``input`` → ``prompt``,
  ``score`` → ``reward``, ``gts`` → ``answer``, ``acc`` (a reward extra, when present) → ``correct``,
  ``data_source`` → ``task``; ``step`` → verl's step − 1 (verl counts training steps from 1; hicra's step is the
  number of updates before sampling, 0 = initial policy; a step-0 validation dump stays 0). The prompt group is
  "same input in the same step": ``prompt_id`` = a hash of the input, ``group_id`` = ``{step}-{prompt_id}``.
* **any JSONL with other field names** — ``--field step=iteration,completion=response,reward=score`` maps hicra
  record fields (left) to the file's fields (right; ``a.b`` reads a nested object). Fields not mapped are taken
  under their hicra name when present; a missing ``prompt_id`` is a hash of ``prompt``.

The converted records are written once, atomically, to ``$HICRA_HOME/imports/<digest>/<name>/rollouts.jsonl``
(the digest covers the source files' paths, sizes, mtimes and the mapping), so a changed source is converted again
and the source directory is never written to; ``hicra judge``'s default cache for such an input lives there too.
Errors name the source file, line and field.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterator

from hicra.io import iter_jsonl, write_jsonl
from hicra.records import RecordError, validate_rollout

RECORD_FIELDS = ("step", "prompt_id", "group_id", "prompt", "completion", "completion_ids", "logprobs", "entropies",
                 "reward", "correct", "answer", "task")
FIELD_HELP = ("read a JSONL file with other field names: comma-separated hicra=source pairs, e.g. "
              "step=iteration,completion=response,reward=score (hicra fields: " + ", ".join(RECORD_FIELDS) +
              "); verl rollout-dump directories ({step}.jsonl files) need no mapping")
_VERL_FILE = re.compile(r"^(\d+)\.jsonl$")


def parse_field_map(spec: str) -> dict[str, str]:
    """``"step=iteration,completion=response"`` → ``{"step": "iteration", "completion": "response"}``."""
    mapping: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        target, sep, source = (s.strip() for s in item.partition("="))
        if not sep or not target or not source:
            raise ValueError(f"--field: {item!r} is not HICRA_FIELD=SOURCE_FIELD")
        if target not in RECORD_FIELDS:
            raise ValueError(f"--field: unknown hicra field {target!r}; valid: {', '.join(RECORD_FIELDS)}")
        mapping[target] = source
    return mapping


def verl_dump_files(path: Path) -> list[Path]:
    """The ``{step}.jsonl`` files of a verl rollout-dump directory, in step order (empty if it is none)."""
    if not path.is_dir() or (path / "rollouts.jsonl").exists():
        return []
    found = [(int(m.group(1)), p) for p in path.iterdir() if (m := _VERL_FILE.match(p.name))]
    return [p for _, p in sorted(found)]


def _prompt_id(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _get(rec: dict[str, Any], dotted: str) -> Any:
    value: Any = rec
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(dotted)
        value = value[part]
    return value


def verl_records(files: list[Path]) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    """(source file, line, hicra record) for every line of verl's rollout dumps."""
    for path in files:
        for lineno, raw in iter_jsonl(path):
            for name in ("input", "output", "score", "step"):
                if name not in raw:
                    raise RecordError(f"{path}:{lineno}: missing field {name!r} (verl rollout dump)")
            step = raw["step"]
            if isinstance(step, bool) or not isinstance(step, int) or step < 0:
                raise RecordError(f"{path}:{lineno}: field 'step' must be a non-negative integer, got {step!r}")
            if not isinstance(raw["input"], str):
                raise RecordError(f"{path}:{lineno}: field 'input' must be a string")
            step = max(step - 1, 0)
            pid = _prompt_id(raw["input"])
            rec = {"step": step, "prompt_id": pid, "group_id": f"{step}-{pid}", "prompt": raw["input"],
                   "completion": raw["output"], "reward": raw["score"]}
            if raw.get("gts") is not None:
                rec["answer"] = str(raw["gts"])
            if isinstance(raw.get("acc"), (bool, int, float)):
                rec["correct"] = bool(raw["acc"])
            if raw.get("data_source") is not None:
                rec["task"] = str(raw["data_source"])
            yield path, lineno, rec


def mapped_records(path: Path, mapping: dict[str, str]) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    """(file, line, hicra record) for every line of a JSONL file read through ``mapping``."""
    for lineno, raw in iter_jsonl(path):
        rec: dict[str, Any] = {}
        for name in RECORD_FIELDS:
            source = mapping.get(name, name)
            try:
                rec[name] = _get(raw, source)
            except KeyError:
                if name in mapping:
                    raise RecordError(f"{path}:{lineno}: missing field {source!r} (mapped to {name!r} by --field)") \
                        from None
        if "prompt_id" not in rec and isinstance(rec.get("prompt"), str):
            rec["prompt_id"] = _prompt_id(rec["prompt"])
        yield path, lineno, rec


def _digest(files: list[Path], mapping: dict[str, str]) -> str:
    stats = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return hashlib.sha1(json.dumps([stats, sorted(mapping.items())]).encode("utf-8")).hexdigest()[:16]


def _materialise(name: str, files: list[Path], mapping: dict[str, str],
                 records: Iterator[tuple[Path, int, dict[str, Any]]]) -> Path:
    from hicra.models import hicra_home

    run_dir = hicra_home() / "imports" / _digest(files, mapping) / name
    target = run_dir / "rollouts.jsonl"
    if not target.is_file():
        run_dir.mkdir(parents=True, exist_ok=True)
        write_jsonl(target, (validate_rollout(rec, f"{path}:{lineno}") for path, lineno, rec in records))
    return run_dir


def import_rollouts(path: str | Path, field_map: str = "") -> Path:
    """``path`` itself for hicra's own inputs; for a verl dump or a mapped file, the converted run directory.

    Args:
        path: a run directory, a rollout JSONL file or a verl rollout-dump directory.
        field_map: ``--field`` mapping for a JSONL file with other field names ("" = none).
    """
    path = Path(path)
    mapping = parse_field_map(field_map)
    dumps = verl_dump_files(path)
    if dumps:
        if mapping:
            raise ValueError(f"--field: {path} is a verl rollout dump, read without a mapping")
        return _materialise(path.name, dumps, mapping, verl_records(dumps))
    if not mapping:
        return path
    source = path / "rollouts.jsonl" if path.is_dir() else path
    if not source.is_file():
        raise RecordError(f"{source}: no such file")
    return _materialise(source.stem if path.is_file() else path.name, [source], mapping,
                        mapped_records(source, mapping))
