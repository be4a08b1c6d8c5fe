"""Planning-token tagger (arXiv 2509.03646, §2.1): a token is a *planning token* iff one of its non-whitespace
characters lies inside a Strategic-Gram occurrence; every other token is an *execution token*.

Two entry points, both vectorised over a batch (texts are joined with a NUL separator, matched in one automaton pass,
and mapped back to tokens with cumulative sums):

* :meth:`PlanningTagger.tag_ids` — the trainer's path: the exact completion ids; the text is rebuilt from the ids'
  surface bytes (:class:`~hicra.tagging.pieces.TokenPieces`), so the mask aligns 1:1 with the optimised ids.
* :meth:`PlanningTagger.tag_texts` — for raw texts: the tokenizer's own character offsets into the given text.

Gram matching semantics are those of :mod:`hicra.tagging.matcher`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from hicra.lexicon import Lexicon
from hicra.tagging.matcher import WHITESPACE_CHAR, GramMatcher, Occurrence
from hicra.tagging.pieces import TokenPieces

_SEPARATOR = "\x00"


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
        """Surface string of each token (may be empty for special tokens or split characters)."""
        return [self.text[a:b] for a, b in self.offsets.tolist()]


class PlanningTagger:
    """Marks tokens as planning/execution for one lexicon and one Hugging Face tokenizer."""

    def __init__(self, lexicon: Lexicon, tokenizer):
        self.lexicon = lexicon
        self.tokenizer = tokenizer
        self.matcher = GramMatcher(lexicon)
        self._pieces: TokenPieces | None = None

    @property
    def pieces(self) -> TokenPieces:
        if self._pieces is None:
            self._pieces = TokenPieces(self.tokenizer)
        return self._pieces

    # ----------------------------------------------------------------------------------------------- entry points
    def tag_texts(self, texts: Sequence[str]) -> list[TaggedText]:
        """Tokenise ``texts`` (no special tokens) and tag each token, with offsets into the given texts."""
        if not getattr(self.tokenizer, "is_fast", False):
            raise TypeError("tag_texts needs a fast (Rust) tokenizer for character offsets; use tag_ids instead")
        enc = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        offsets = [np.asarray(o, dtype=np.int64).reshape(-1, 2) for o in enc["offset_mapping"]]
        return self._tag(list(texts), enc["input_ids"], offsets)

    def tag_ids(self, sequences: Sequence[Sequence[int]]) -> list[TaggedText]:
        """Tag exact token-id sequences (e.g. sampled completions); the text is decoded from the ids' bytes."""
        pieces, lengths = self.pieces.pieces, self.pieces.lengths
        ids = [np.asarray(s, dtype=np.int64) for s in sequences]
        blobs = [b"".join([pieces[i] for i in s.tolist()]) for s in ids]
        texts, offsets = [], []
        for blob, s in zip(blobs, ids):
            byte_ends = np.cumsum(lengths[s])
            try:
                text = blob.decode("utf-8")
                starts_char = np.frombuffer(blob, dtype=np.uint8) & 0xC0 != 0x80
                char_at = np.concatenate(([0], np.cumsum(starts_char)))  # char index of each byte boundary
                ends = char_at[byte_ends]
            except UnicodeDecodeError:  # invalid UTF-8 (e.g. a sampled half character): decode token by token
                text, ends = self._decode_incrementally([pieces[i] for i in s.tolist()])
            starts = np.concatenate(([0], ends[:-1])) if len(ends) else ends
            texts.append(text)
            offsets.append(np.stack([starts, ends], axis=1).astype(np.int64) if len(ends) else np.zeros((0, 2), np.int64))
        return self._tag(texts, [s.tolist() for s in ids], offsets)

    def planning_masks(self, sequences: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Only the [T] bool planning mask of each id sequence."""
        return [t.planning for t in self.tag_ids(sequences)]

    # ------------------------------------------------------------------------------------------------ internals
    @staticmethod
    def _decode_incrementally(token_bytes: list[bytes]) -> tuple[str, np.ndarray]:
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        chunks, ends, n = [], [], 0
        for b in token_bytes:
            chunk = decoder.decode(b)
            chunks.append(chunk)
            n += len(chunk)
            ends.append(n)
        tail = decoder.decode(b"", final=True)
        if tail:
            chunks.append(tail)
            ends[-1] += len(tail)
        return "".join(chunks), np.asarray(ends, dtype=np.int64)

    def _tag(self, texts: list[str], token_ids: list[list[int]], offsets: list[np.ndarray]) -> list[TaggedText]:
        if any(_SEPARATOR in t for t in texts):
            texts = [t.replace(_SEPARATOR, " ") for t in texts]  # NUL never matches a gram; keeps offsets
        text_starts = np.cumsum([0] + [len(t) + 1 for t in texts])
        joined = _SEPARATOR.join(texts)
        occurrences = self.matcher.find(joined)

        # coverage[c] > 0 iff character c lies inside some occurrence (union of overlapping occurrences)
        delta = np.zeros(len(joined) + 1, dtype=np.int64)
        if occurrences:
            np.add.at(delta, np.fromiter((o.start for o in occurrences), np.int64), 1)
            np.add.at(delta, np.fromiter((o.end for o in occurrences), np.int64), -1)
        inside = np.cumsum(delta[:-1]) > 0
        if inside.any():  # only non-whitespace characters make a token a planning token
            spaced = WHITESPACE_CHAR.sub(" ", joined)
            inside &= np.frombuffer(spaced.encode("utf-32-le"), dtype=np.uint32) != ord(" ")
        counted = np.concatenate(([0], np.cumsum(inside)))

        spans_of: list[list[Occurrence]] = [[] for _ in texts]
        owners = np.searchsorted(text_starts, [o.start for o in occurrences], side="right") - 1
        for o, k in zip(occurrences, owners.tolist()):
            spans_of[k].append(Occurrence(o.start - int(text_starts[k]), o.end - int(text_starts[k]), o.gram))
        results = []
        for k, (text, ids, off) in enumerate(zip(texts, token_ids, offsets)):
            base = text_starts[k]
            planning = (counted[off[:, 1] + base] - counted[off[:, 0] + base]) > 0 if len(off) else np.zeros(0, bool)
            results.append(TaggedText(text, list(ids), off, planning, spans_of[k]))
        return results
