"""Planning mask and credit of one batch, for every engine (arXiv 2509.03646, §2.1 and §3).

:func:`tag_rows` tags the exact sampled ids. An id the tokenizer cannot decode (a model vocabulary larger than the
tokenizer's, e.g. Qwen3: 151,936 vs 151,669) has no text: it is never a planning token and splits the text around
it, instead of failing the step. :func:`check_planning` is the guard against broken tagging: an all-zero mask while
the decoded *optimised* tokens contain a Strategic Gram. The credit itself is :meth:`hicra.core.CreditMethod.apply`;
:func:`step_generator` seeds the random controls from the run seed and the generation-batch index, so a resumed run
draws the same tokens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from hicra.analysis.metrics import strategic_grams
from hicra.tagging.matcher import BATCH_SEPARATOR
from hicra.tagging.tagger import PlanningTagger


class PlanningMaskError(RuntimeError):
    """The planning mask is empty although the optimised tokens' text contains Strategic Grams: tagging is broken."""


@dataclass
class TaggedRows:
    """Planning tokens and Strategic Grams of B id rows (rows of any length)."""

    planning: list[np.ndarray]  # [n_b] bool per row
    grams: list[list[str]]  # per row, one SG per maximal occurrence (the definition of §2.2.2)

    def mask(self, width: int, device: torch.device | str = "cpu") -> Tensor:
        """[B, width] bool planning mask, false beyond each row's length."""
        out = torch.zeros(len(self.planning), width, dtype=torch.bool)
        for i, p in enumerate(self.planning):
            out[i, : len(p)] = torch.from_numpy(np.asarray(p[:width], dtype=bool))
        return out.to(device)


def _segments(ids: np.ndarray, keep: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` of the maximal runs of ``keep`` in a row."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _decodable(tagger: PlanningTagger, ids: np.ndarray) -> np.ndarray:
    return (ids >= 0) & (ids < len(tagger.pieces.pieces))


def tag_rows(tagger: PlanningTagger, rows: list[list[int]]) -> TaggedRows:
    """Tag the exact ids of each row (:meth:`PlanningTagger.tag_ids`), tolerating ids the tokenizer cannot decode."""
    arrays = [np.asarray(r, dtype=np.int64) for r in rows]
    pieces, owners = [], []
    for b, ids in enumerate(arrays):
        ok = _decodable(tagger, ids)
        for start, end in ([(0, len(ids))] if ok.all() else _segments(ids, ok)):
            pieces.append(rows[b][start:end])
            owners.append((b, start))
    planning = [np.zeros(len(ids), dtype=bool) for ids in arrays]
    grams: list[list[str]] = [[] for _ in arrays]
    for (b, start), tagged in zip(owners, tagger.tag_ids(pieces)):
        planning[b][start: start + len(tagged.planning)] = tagged.planning
        grams[b] += strategic_grams([(o.start, o.end, o.gram) for o in tagged.spans])
    return TaggedRows(planning, grams)


def check_planning(tagger: PlanningTagger, rows: list[list[int]], optimised: Tensor, planning: Tensor) -> None:
    """Raise :class:`PlanningMaskError` if ``planning`` is all zero but the text of the optimised tokens (``optimised``
    [B, T] bool, e.g. verl's ``response_mask``: tool outputs excluded) contains a Strategic Gram."""
    if bool(planning.any()) or not rows:
        return
    keep = optimised.bool().cpu().numpy()
    spans = []
    for b, row in enumerate(rows):
        ids = np.asarray(row, dtype=np.int64)
        ok = _decodable(tagger, ids) & keep[b, : len(ids)]
        spans += [row[s:e] for s, e in _segments(ids, ok)]
    texts = tagger.tokenizer.batch_decode(spans, skip_special_tokens=True) if spans else []
    found = tagger.matcher.match(BATCH_SEPARATOR.join(texts))
    if len(found.starts):
        gram = tagger.matcher.grams[int(found.grams[0])]
        raise PlanningMaskError(
            f"HICRA: the planning mask of this step is all zero, but the optimised tokens' text contains "
            f"{len(found.starts)} Strategic-Gram occurrences (e.g. {gram!r}): token-id tagging does not match the "
            f"tokenizer ({type(tagger.tokenizer).__name__}); refusing to train plain GRPO silently "
            f"(algorithm.hicra.require_planning=false skips this check)")


def step_generator(seed: int, index: int, part: int = 0) -> torch.Generator:
    """A CPU generator for the draws of generation batch ``index`` of a run seeded ``seed``, on process ``part``
    (the same after a resume; independent across batches and processes)."""
    digest = hashlib.sha256(f"hicra-credit:{seed}:{index}:{part}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
