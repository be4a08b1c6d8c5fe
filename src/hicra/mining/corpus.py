"""Stage a — the solutions to mine (arXiv 2509.03646, §2.1: Strategic Grams are mined from *successful* solutions).

Input is a run directory (``RUN_DIR/rollouts.jsonl``, records of :mod:`hicra.records`) or any JSONL file. Plain
corpora work too: the ``solution`` field of MATH500 has no ``reward``/``correct`` field, so with ``success=auto``
every record counts as successful — reference solutions are correct by construction.

Deviation from the paper: the paper does not say how it samples rollouts across training; ``max_solutions``
stratifies by ``step`` (equal quota per step, leftovers to the larger steps) so no phase of training dominates.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from hicra.mining.config import MineConfig, MiningError
from hicra.importers import import_rollouts
from hicra.records import iter_rollouts, rollouts_path

TEXT_FIELDS = ("completion", "solution", "text")


class CorpusError(MiningError):
    """A corpus that cannot be mined: missing file or field, no records, no successful solutions."""


@dataclass
class Corpus:
    """The successful solutions, ready for n-gram counting, with the counts of stage a."""

    texts: list[str]
    steps: list[Any]
    path: Path
    text_field: str
    counts: dict[str, int]


def resolve_input(path: str | Path, field_map: str = "") -> Path:
    """``RUN_DIR`` → ``RUN_DIR/rollouts.jsonl``; a file stays as it is; foreign rollouts via :mod:`hicra.importers`."""
    path = rollouts_path(import_rollouts(path, field_map))
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    return path


def iter_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` for every non-blank line of a JSONL file, validated like every rollout reader
    (:func:`hicra.records.validate_rollout`; no field is required, since plain corpora have no reward)."""
    return iter_rollouts(path, required=(), error=CorpusError)


def _is_successful(path: Path, lineno: int, rec: dict[str, Any], cfg: MineConfig) -> bool:
    mode = cfg.success
    if mode == "all":
        return True
    if mode == "auto":
        mode = "correct" if rec.get("correct") is not None else "reward" if rec.get("reward") is not None else "all"
        if mode == "all":
            return True
    if rec.get(mode) is None:
        raise CorpusError(f"{path}:{lineno}: missing field {mode!r} (success={cfg.success}; "
                          f"use --success all for a corpus of known-good solutions)")
    return rec[mode] if mode == "correct" else rec[mode] >= cfg.min_reward  # types checked by iter_records


def sample_across_steps(items: list[tuple[Any, str]], k: int, seed: int) -> list[tuple[Any, str]]:
    """At most ``k`` items, spread evenly over their step (first element); order of the input kept."""
    if k <= 0 or len(items) <= k:
        return items
    by_step: dict[Any, list[int]] = defaultdict(list)
    for i, (step, _) in enumerate(items):
        by_step[step].append(i)
    rng = random.Random(seed)
    groups = sorted(by_step.values(), key=len)
    chosen: list[int] = []
    budget = k
    for j, idx in enumerate(groups):  # smallest steps first; what they leave goes to the larger ones
        quota = budget // (len(groups) - j)
        take = idx if len(idx) <= quota else rng.sample(idx, quota)
        chosen.extend(take)
        budget -= len(take)
    return [items[i] for i in sorted(chosen)]


def load_corpus(cfg: MineConfig) -> Corpus:
    """Read, filter (success), de-duplicate and sample the solutions named by ``cfg.rollouts``."""
    if not cfg.rollouts:
        raise CorpusError("--rollouts is required (a run directory or a JSONL file)")
    path = resolve_input(cfg.rollouts, cfg.field)
    field = None if cfg.text_field == "auto" else cfg.text_field
    n_records = 0
    kept: list[tuple[Any, str]] = []
    records = tqdm(iter_records(path), desc="a. read", unit="rec", delay=1.0, disable=not cfg.progress)
    for lineno, rec in records:
        n_records += 1
        if field is None:
            field = next((f for f in TEXT_FIELDS if f in rec), None)
            if field is None:
                raise CorpusError(f"{path}:{lineno}: none of the fields {', '.join(TEXT_FIELDS)} is present; "
                                  f"name the text with --text-field")
        if field not in rec:
            raise CorpusError(f"{path}:{lineno}: missing field {field!r}")
        text = rec[field]
        if not isinstance(text, str):
            raise CorpusError(f"{path}:{lineno}: field {field!r} must be a string, got {type(text).__name__}")
        if _is_successful(path, lineno, rec, cfg):
            kept.append((rec.get("step"), text))
    if n_records == 0:
        raise CorpusError(f"{path}: no records (the corpus is empty)")
    if not kept:
        raise CorpusError(f"{path}: none of the {n_records} records is successful (success={cfg.success}, "
                          f"min_reward={cfg.min_reward})")
    n_successful = len(kept)
    if cfg.dedupe:
        seen: set[str] = set()
        kept = [it for it in kept if not (it[1] in seen or seen.add(it[1]))]
    n_unique = len(kept)
    kept = sample_across_steps(kept, cfg.max_solutions, cfg.seed)
    counts = {"records read": n_records, "successful": n_successful, "after de-duplication": n_unique,
              "solutions mined": len(kept)}
    return Corpus(texts=[t for _, t in kept], steps=[s for s, _ in kept], path=path, text_field=str(field),
                  counts=counts)
