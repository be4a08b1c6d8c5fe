"""Planning-token tagger (arXiv 2509.03646, §2.1): a token is a *planning token* iff one of its non-whitespace
characters lies inside a Strategic-Gram occurrence; every other token is an *execution token*.

Two entry points, both vectorised over a batch (texts are joined with a NUL separator, matched in one automaton pass,
and mapped back to tokens with cumulative sums; no Python work per token):

* :meth:`PlanningTagger.tag_ids` — the trainer's path: the exact completion ids; the text is rebuilt from the ids'
  surface bytes (:class:`~hicra.tagging.pieces.TokenPieces`), so the mask aligns 1:1 with the optimised ids. A token
  holding part of a multi-byte character owns that whole character (as Hugging Face offsets do); bytes that are not
  valid UTF-8 (e.g. a sampled half character) become one U+FFFD each.
* :meth:`PlanningTagger.tag_texts` — for raw texts: the tokenizer's own character offsets into the given text. A
  token whose surface is whitespace only (SentencePiece's ``▁``, whose offsets may point at the next character) is
  never a planning token, as in ``tag_ids``.

Gram matching semantics are those of :mod:`hicra.tagging.matcher`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain
from typing import Sequence

import numpy as np

from hicra.lexicon import Lexicon
from hicra.tagging.matcher import BATCH_SEPARATOR, GramMatcher, Matches, Occurrence
from hicra.tagging.pieces import TokenPieces

_EMPTY_OFFSETS = np.zeros((0, 2), dtype=np.int64)


@dataclass
class TaggedText:
    """One tagged sequence: ``offsets[i]`` = character span of token i in ``text``; ``planning[i]`` its class."""

    text: str
    token_ids: list[int]
    offsets: np.ndarray  # [T, 2] int64 character offsets into text
    planning: np.ndarray  # [T] bool
    spans: list[Occurrence] = field(default_factory=list)

    @property
    def tokens(self) -> list[str]:
        """Surface string of each token (empty for special tokens; a split character appears in each part)."""
        return [self.text[a:b] for a, b in self.offsets.tolist()]


@dataclass
class _Batch:
    """A batch as one NUL-joined text: text k is ``joined[starts[k]:starts[k + 1] - 1]``; token offsets index
    ``joined``; ``counts[k]`` tokens belong to text k."""

    joined: str
    starts: np.ndarray  # [K + 1] int64
    ids: np.ndarray  # [N] int64
    id_lists: list[list[int]]  # the same ids per text
    offsets: np.ndarray  # [N, 2] int64
    counts: np.ndarray  # [K] int64


def _decode_lossy(blob: bytes) -> tuple[str, np.ndarray]:
    """Decode invalid UTF-8 with each bad byte as one U+FFFD; also return which bytes start a character."""
    text = blob.decode("utf-8", errors="surrogateescape")
    codes = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32).copy()
    escaped = (codes >= 0xDC80) & (codes <= 0xDCFF)
    n_bytes = 1 + (codes >= 0x80).astype(np.int64) + (codes >= 0x800) + (codes >= 0x10000)
    n_bytes[escaped] = 1
    char_start = np.zeros(len(blob), dtype=bool)
    char_start[np.cumsum(n_bytes) - n_bytes] = True
    codes[escaped] = 0xFFFD
    return codes.tobytes().decode("utf-32-le"), char_start


class PlanningTagger:
    """Marks tokens as planning/execution for one lexicon and one Hugging Face tokenizer."""

    def __init__(self, lexicon: Lexicon, tokenizer):
        self.lexicon = lexicon
        self.tokenizer = tokenizer
        self.matcher = GramMatcher(lexicon)
        self._pieces: TokenPieces | None = None
        # all pieces plus the separator b"\0" (as id len(pieces)) in one byte array: piece i is
        # _joinable_bytes[_joinable_starts[i]:][:_joinable_lengths[i]]
        self._joinable_bytes = np.zeros(0, dtype=np.uint8)
        self._joinable_starts = self._joinable_lengths = np.zeros(0, dtype=np.int64)

    @property
    def pieces(self) -> TokenPieces:
        if self._pieces is None:
            self._pieces = TokenPieces(self.tokenizer)
            table = b"".join(self._pieces.pieces) + BATCH_SEPARATOR.encode()
            self._joinable_bytes = np.frombuffer(table, dtype=np.uint8)
            self._joinable_lengths = np.append(self._pieces.lengths, 1)
            self._joinable_starts = np.cumsum(self._joinable_lengths) - self._joinable_lengths
        return self._pieces

    # ----------------------------------------------------------------------------------------------- entry points
    def tag_texts(self, texts: Sequence[str]) -> list[TaggedText]:
        """Tokenise ``texts`` (no special tokens) and tag each token, with offsets into the given texts."""
        if not getattr(self.tokenizer, "is_fast", False):
            raise ValueError("tag_texts needs a fast (Rust) tokenizer for character offsets; use tag_ids instead")
        texts = list(texts)
        if not texts:
            return []
        enc = self.tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
        starts = np.cumsum([0] + [len(t) + 1 for t in texts])
        offsets = [np.asarray(o, dtype=np.int64).reshape(-1, 2) + s for o, s in zip(enc["offset_mapping"], starts)]
        ids = np.fromiter(chain.from_iterable(enc["input_ids"]), dtype=np.int64)
        batch = _Batch(BATCH_SEPARATOR.join(texts), starts, ids, enc["input_ids"], np.concatenate(offsets),
                       np.array([len(x) for x in enc["input_ids"]], dtype=np.int64))
        matches, planning = self._label(batch)
        planning &= ~self.pieces.blank[ids]
        return self._split(batch, matches, planning)

    def tag_ids(self, sequences: Sequence[Sequence[int]]) -> list[TaggedText]:
        """Tag exact token-id sequences (e.g. sampled completions); the text is decoded from the ids' bytes."""
        batch = self._decode(sequences)
        matches, planning = self._label(batch)
        return self._split(batch, matches, planning)

    def planning_masks(self, sequences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Only the [T] bool planning mask of each id sequence (as :meth:`tag_ids`, without building spans)."""
        batch = self._decode(sequences)
        planning = self._label(batch)[1]
        return np.split(planning, np.cumsum(batch.counts)[:-1]) if len(batch.counts) else []

    # ------------------------------------------------------------------------------------------------ internals
    def _decode(self, sequences: Sequence[Sequence[int]]) -> _Batch:
        """Rebuild the NUL-joined text of id sequences from the ids' surface bytes, with per-token char offsets."""
        separator = len(self.pieces.pieces)
        id_lists = [s if isinstance(s, list) else np.asarray(s, dtype=np.int64).reshape(-1).tolist() for s in sequences]
        counts = np.fromiter(map(len, id_lists), dtype=np.int64, count=len(id_lists))
        ids = np.fromiter(chain.from_iterable(id_lists), dtype=np.int64, count=int(counts.sum()))
        if len(ids) and (ids.min() < 0 or ids.max() >= separator):
            raise ValueError(f"token id out of the tokenizer's range 0..{separator - 1}")
        ends_at = np.cumsum(counts)
        with_sep = np.insert(ids, ends_at, separator)  # each sequence followed by a NUL
        sep_pos = ends_at + np.arange(len(counts))
        lengths = self._joinable_lengths[with_sep]
        byte_ends = np.cumsum(lengths)
        byte_starts = byte_ends - lengths
        # gather every piece's bytes from the contiguous table in one vectorised copy
        gather = np.arange(int(byte_ends[-1]) if len(byte_ends) else 0) + np.repeat(
            self._joinable_starts[with_sep] - byte_starts, lengths)
        blob = self._joinable_bytes[gather].tobytes()
        try:
            joined = blob.decode("utf-8")
            char_start = (np.frombuffer(blob, dtype=np.uint8) & 0xC0) != 0x80
        except UnicodeDecodeError:
            joined, char_start = _decode_lossy(blob)
        chars_before = np.concatenate(([0], np.cumsum(char_start)))  # characters started before byte k
        ends = chars_before[byte_ends]
        # a token that starts inside a multi-byte character also owns that character
        mid = np.zeros(len(lengths), dtype=bool)
        nonempty = lengths > 0
        mid[nonempty] = ~char_start[byte_starts[nonempty]]
        offsets = np.stack([chars_before[byte_starts] - mid, ends], axis=1)
        keep = np.ones(len(with_sep), dtype=bool)
        keep[sep_pos] = False
        starts = np.concatenate(([0], ends[sep_pos]))
        return _Batch(joined, starts, ids, id_lists, offsets[keep], counts)

    def _label(self, batch: _Batch) -> tuple[Matches, np.ndarray]:
        """Occurrences in the joined text and the [N] planning mask (union of occurrences, whitespace excluded)."""
        matches = self.matcher.match(batch.joined)
        if not len(matches.starts) or not len(batch.offsets):
            return matches, np.zeros(len(batch.offsets), dtype=bool)
        return matches, tokens_covered(matches.starts, matches.ends, ~matches.whitespace, batch.offsets)

    def _split(self, batch: _Batch, matches: Matches, planning: np.ndarray) -> list[TaggedText]:
        """Per-text :class:`TaggedText` objects with offsets and spans relative to each text."""
        starts = batch.starts
        spans: list[list[Occurrence]] = [[] for _ in batch.counts]
        if len(matches.starts):
            owners = np.searchsorted(starts, matches.starts, side="right") - 1
            grams = self.matcher.grams
            for a, b, g, k in zip((matches.starts - starts[owners]).tolist(), (matches.ends - starts[owners]).tolist(),
                                  matches.grams.tolist(), owners.tolist()):
                spans[k].append(Occurrence(a, b, grams[g]))
        bounds = np.concatenate(([0], np.cumsum(batch.counts))).tolist()
        starts_list = starts.tolist()
        out = []
        for k in range(len(batch.counts)):
            a, b = bounds[k], bounds[k + 1]
            s = starts_list[k]
            out.append(TaggedText(batch.joined[s:starts_list[k + 1] - 1], list(batch.id_lists[k]),
                                  batch.offsets[a:b] - s if b > a else _EMPTY_OFFSETS.copy(), planning[a:b], spans[k]))
        return out


def tokens_covered(span_starts: np.ndarray, span_ends: np.ndarray, solid: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """[N] bool: the token rule of §2.1 — token i is covered iff one of its non-whitespace characters lies in a span.

    Args:
        span_starts, span_ends: [M] character spans (unioned when they overlap).
        solid: [C] bool, true for the non-whitespace characters of the text.
        offsets: [N, 2] character offsets of the tokens.
    """
    size = len(solid) + 1
    delta = np.bincount(span_starts, minlength=size) - np.bincount(span_ends, minlength=size)
    covered = (np.cumsum(delta[:-1]) > 0) & solid
    counted = np.concatenate(([0], np.cumsum(covered)))
    off = np.clip(offsets, 0, len(solid))
    return counted[off[:, 1]] > counted[off[:, 0]]
