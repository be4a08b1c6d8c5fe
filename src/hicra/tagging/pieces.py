"""The surface bytes of every token id, so that token ids map to character offsets without re-tokenising (the
planning mask of paper §2.1 must align 1:1 with the optimised ids).

For each id of a Hugging Face tokenizer the table holds the UTF-8 bytes the id contributes to decoded text:

* byte-level BPE (GPT-2/SmolLM2/Qwen/Llama-3 style, decoder ``ByteLevel``): the id's string through the inverse
  byte↔unicode table of byte-level BPE, so split multi-byte characters stay exact;
* other tokenizers (SentencePiece/Metaspace, WordPiece, ...): what the id adds after an anchor token when decoded,
  which keeps word-initial spaces (``▁x`` → " x", ``##x`` → "x"); byte-fallback ids ``<0xHH>`` are the byte HH.
* special tokens contribute nothing.

WordPiece decoding is lossy (``let's`` decodes as ``let ' s``), so for WordPiece tokenizers tag text with offsets
(:meth:`PlanningTagger.tag_texts`) rather than ids.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import numpy as np

_BYTE_FALLBACK = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


@lru_cache(maxsize=1)
def _byte_level_inverse() -> dict[str, int]:
    """Inverse of byte-level BPE's reversible byte → printable-unicode table."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[chr(b)] = b
        else:
            table[chr(256 + extra)] = b
            extra += 1
    return table


def _is_blank(piece: bytes) -> bool:
    """Non-empty and whitespace only (partial UTF-8 characters are not blank)."""
    try:
        return bool(piece) and piece.decode("utf-8").isspace()
    except UnicodeDecodeError:
        return False


def _decoder_type(tokenizer) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return ""
    decoder = json.loads(backend.to_str()).get("decoder") or {}
    if decoder.get("type") == "Sequence":
        return ",".join(d.get("type", "") for d in decoder.get("decoders", []))
    return decoder.get("type", "")


class TokenPieces:
    """Per-id surface bytes (``pieces``), their lengths (``lengths``, int64 numpy) and ``blank`` (bool numpy: the
    piece is whitespace only, e.g. SentencePiece's ``▁``, so the token can never be a planning token) for one
    tokenizer."""

    def __init__(self, tokenizer):
        vocab_size = max(len(tokenizer), max(tokenizer.get_vocab().values()) + 1)
        tokens = tokenizer.convert_ids_to_tokens(list(range(vocab_size)))
        special = set(tokenizer.all_special_ids)
        if "ByteLevel" in _decoder_type(tokenizer):
            inverse = _byte_level_inverse()
            pieces = [b"" if i in special or t is None else
                      (bytes(inverse[c] for c in t) if all(c in inverse for c in t) else t.encode("utf-8"))
                      for i, t in enumerate(tokens)]
        else:
            pieces = self._anchored_pieces(tokenizer, tokens, special)
        self.pieces: list[bytes] = pieces
        self.lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        self.blank = np.fromiter((_is_blank(p) for p in pieces), dtype=bool, count=len(pieces))

    @staticmethod
    def _anchored_pieces(tokenizer, tokens: list[str | None], special: set[int]) -> list[bytes]:
        anchor = tokenizer.encode("a", add_special_tokens=False)[-1:]
        prefix = tokenizer.decode(anchor, clean_up_tokenization_spaces=False)
        pairs = tokenizer.batch_decode([anchor + [i] for i in range(len(tokens))], clean_up_tokenization_spaces=False)
        pieces = []
        for i, (tok, full) in enumerate(zip(tokens, pairs)):
            fallback = _BYTE_FALLBACK.match(tok or "")
            if i in special or tok is None:
                pieces.append(b"")
            elif fallback:
                pieces.append(bytes([int(fallback.group(1), 16)]))
            else:
                pieces.append((full[len(prefix):] if full.startswith(prefix) else full).encode("utf-8"))
        return pieces
