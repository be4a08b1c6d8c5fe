"""Stages b and c — n-gram extraction and the statistical signature of Strategic Grams (arXiv 2509.03646, §2.1).

**b. Normalisation and n-grams.** Text is normalised like :func:`hicra.lexicon.normalize_gram` (lower case,
’ ‘ ʼ → ', whitespace runs → one space). Tokens are words (letters, with inner ' or - as in "let's",
"double-checking"); every other character is a *break*: punctuation, digits, and — with ``mask_math`` — whole LaTeX
spans (``$...$``, ``\\[...\\]``, ``\\(...\\)``, ``\\begin{env}...\\end{env}``, ``[asy]...[/asy]``), ``\\commands``
and escaped dollars ``\\$``, which are replaced by a break placeholder first. An n-gram is n consecutive words with
no break between them, so no mined gram contains math or numbers ("x = 3" never becomes a gram) and every gram
occurs verbatim in the normalised text: the tagger (:mod:`hicra.tagging.matcher`) finds it where it was mined. With
``mask_single_letters``, one-letter words other than "a" and "i" (variables written without ``$``) break too.

Deviation: grams never span punctuation, so the paper's "from this, it follows that" is mined as "it follows that".

**c. Signature** — "frequent across solutions, sparse within each": document frequency ``df`` (solutions containing
the gram) must reach ``min_df`` (a fraction) and ``min_doc_count``; the mean count in the solutions containing it
(``count / df``) must not exceed ``max_mean_count``. Where it is tested depends on ``signature_order``: by default
(``concept``, the later version of the paper, §2.1 and Appendix A) equivalent n-grams are grouped first and the
signature is tested on each grouped concept in stage d, so a strategy written in several phrasings, each rare, is
kept when the concept is frequent; here only n-grams in fewer than ``candidate_min_doc_count`` solutions are
dropped. ``ngram`` (the first version's order) tests it on each n-gram here, before grouping.

Counting is vectorised: words get integer ids; n-gram ids are built level by level (an (n+1)-gram is the pair
(n-gram id, next word id), one ``np.unique`` per level), and document frequency comes from unique (gram, doc) pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from tqdm import tqdm

from hicra.lexicon import APOSTROPHES
from hicra.mining.config import MineConfig

MATH_SPAN = re.compile(
    r"\\\$|\[asy\].*?\[/asy\]|\$\$.*?\$\$|\$.*?\$|\\\[.*?\\\]|\\\(.*?\\\)|\\begin\{([a-z*]+)\}.*?\\end\{\1\}|\\[a-z]+",
    re.DOTALL)
TOKEN = re.compile(r"\w+(?:['\-]\w+)*|\S")
WORD = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*")
WORD_WITH_DIGITS = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")
BREAK = "|"
_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str, mask_math: bool = True) -> str:
    """Lower case, unified apostrophes, LaTeX spans → a break placeholder (``|``), whitespace runs → one space."""
    text = text.translate(APOSTROPHES).lower()
    if mask_math:
        text = MATH_SPAN.sub(f" {BREAK} ", text)
    return _WHITESPACE.sub(" ", text).strip()


def tokenize(text: str, mask_math: bool = True) -> list[str]:
    """Words and break characters of the normalised text (see the module docstring)."""
    return TOKEN.findall(normalize_text(text, mask_math))


def is_word(token: str, cfg: MineConfig) -> bool:
    """Whether ``token`` may be part of an n-gram (otherwise it is a break)."""
    pattern = WORD if cfg.mask_math else WORD_WITH_DIGITS
    if not pattern.fullmatch(token):
        return False
    return not (cfg.mask_single_letters and len(token) == 1 and token not in ("a", "i"))


@dataclass
class Candidates:
    """N-grams that pass the signature (stage c), most frequent first, with their solution sets."""

    grams: list[str]
    df: np.ndarray  # [G] number of solutions containing the gram
    count: np.ndarray  # [G] total occurrences
    docs: sparse.csr_matrix  # [G, D] uses of gram g in solution d (0 = absent)
    n_docs: int
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.grams)

    @property
    def df_fraction(self) -> np.ndarray:
        return self.df / max(self.n_docs, 1)

    @property
    def mean_count(self) -> np.ndarray:
        return self.count / np.maximum(self.df, 1)


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique(x)`` by sorting (numpy's default hash-based unique is far slower on millions of int64)."""
    x = np.sort(x)
    return x[np.concatenate(([True], x[1:] != x[:-1]))] if len(x) else x


def _encode(texts: list[str], cfg: MineConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Word ids (breaks = -1) of the concatenated corpus, document of each position, break mask, vocabulary."""
    vocab: dict[str, int] = {BREAK: 0}
    ids: list[int] = []
    lengths = np.empty(len(texts), dtype=np.int64)
    for d, text in enumerate(tqdm(texts, desc="b. tokenise", unit="doc", delay=1.0, disable=not cfg.progress)):
        toks = tokenize(text, cfg.mask_math)
        ids.extend([vocab.setdefault(t, len(vocab)) for t in toks])
        ids.append(0)  # a break between documents
        lengths[d] = len(toks) + 1
    words = list(vocab)
    word_ok = np.fromiter((is_word(w, cfg) for w in words), dtype=bool, count=len(words))
    arr = np.asarray(ids, dtype=np.int64)
    brk = ~word_ok[arr]
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    return np.where(brk, -1, arr), doc, brk, words


def signature_bounds(cfg: MineConfig, n_docs: int) -> tuple[int, float]:
    """Fewest and most solutions an n-gram or grouped concept may appear in ("frequent across", ``max_df``)."""
    return max(cfg.min_doc_count, int(np.ceil(cfg.min_df * n_docs - 1e-9))), cfg.max_df * n_docs


def _sorted_unique_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_counts=True)`` by sorting (see :func:`_sorted_unique`)."""
    x = np.sort(x)
    if not len(x):
        return x, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1])))
    return x[starts], np.diff(np.append(starts, len(x)))


def count_ngrams(texts: list[str], cfg: MineConfig) -> Candidates:
    """Stages b + c: all n-grams (``min_n``..``max_n``) of ``texts`` and the candidates that go on to stage d.

    ``signature_order="ngram"``: the candidates are the n-grams with the signature. ``"concept"``: every n-gram in at
    least ``candidate_min_doc_count`` solutions; the signature is tested later on grouped concepts
    (:func:`hicra.mining.cluster.select_clusters`). Either way at most ``max_candidates``, most frequent first.
    """
    n_docs = len(texts)
    tid, doc, brk, words = _encode(texts, cfg)
    n_tokens = int((~brk).sum())
    vocab_size = np.int64(len(words))
    per_ngram = cfg.signature_order == "ngram"
    min_docs, max_docs = signature_bounds(cfg, n_docs) if per_ngram else (max(cfg.candidate_min_doc_count, 1), n_docs)
    counts = {"word tokens": n_tokens, "distinct n-grams": 0}
    counts.update({"frequent across (df)": 0, "sparse within": 0} if per_ngram else
                  {f"in >= {min_docs} solutions": 0})
    rows: list[tuple[str, int, int, np.ndarray, np.ndarray]] = []
    level_ids = tid.copy()  # id of the n-gram starting at each position, -1 where it crosses a break
    for n in tqdm(range(1, cfg.max_n + 1), desc="b. n-grams", unit="n", delay=1.0, disable=not cfg.progress):
        if n > 1:
            nxt = tid[n - 1:]
            prev = level_ids[:len(nxt)]
            ok = (prev >= 0) & (nxt >= 0)
            level_ids = np.full(len(nxt), -1, dtype=np.int64)
            if ok.any():
                _, inverse = np.unique(prev[ok] * vocab_size + nxt[ok], return_inverse=True)
                level_ids[ok] = inverse
        if n < cfg.min_n:
            continue
        pos = np.flatnonzero(level_ids >= 0)
        if not len(pos):
            continue
        gid = level_ids[pos]
        total = np.bincount(gid)
        n_grams = len(total)
        pairs, pair_count = _sorted_unique_counts(gid * np.int64(n_docs) + doc[pos])
        pair_gram, pair_doc = pairs // n_docs, pairs % n_docs
        df = np.bincount(pair_gram, minlength=n_grams)
        frequent = (df >= min_docs) & (df <= max_docs)
        counts["distinct n-grams"] += n_grams
        if per_ngram:
            keep_mask = frequent & (total <= cfg.max_mean_count * df)
            counts["frequent across (df)"] += int(frequent.sum())
            counts["sparse within"] += int(keep_mask.sum())
        else:
            keep_mask = frequent
            counts[f"in >= {min_docs} solutions"] += int(frequent.sum())
        keep = np.flatnonzero(keep_mask)
        if not len(keep):
            continue
        at_kept = np.flatnonzero(keep_mask[gid])
        first = np.zeros(n_grams, dtype=np.int64)
        kept_ids, first_at = np.unique(gid[at_kept], return_index=True)
        first[kept_ids] = pos[at_kept[first_at]]  # first position of each kept gram
        starts = np.searchsorted(pair_gram, keep)
        ends = np.searchsorted(pair_gram, keep, side="right")
        for g, a, b in zip(keep.tolist(), starts.tolist(), ends.tolist()):
            p = int(first[g])
            gram = " ".join(words[int(t)] for t in tid[p:p + n])
            rows.append((gram, int(df[g]), int(total[g]), pair_doc[a:b], pair_count[a:b]))
    rows.sort(key=lambda r: (-r[1], r[0]))
    if cfg.max_candidates:
        rows = rows[:cfg.max_candidates]
    counts["candidates (capped)"] = len(rows)
    indptr = np.cumsum([0] + [len(r[3]) for r in rows])
    indices = np.concatenate([r[3] for r in rows]) if rows else np.zeros(0, dtype=np.int64)
    uses = np.concatenate([r[4] for r in rows]).astype(np.int32) if rows else np.zeros(0, dtype=np.int32)
    docs = sparse.csr_matrix((uses, indices, indptr), shape=(len(rows), n_docs))
    return Candidates(grams=[r[0] for r in rows], df=np.array([r[1] for r in rows], dtype=np.int64),
                      count=np.array([r[2] for r in rows], dtype=np.int64), docs=docs, n_docs=n_docs,
                      counts=counts)
