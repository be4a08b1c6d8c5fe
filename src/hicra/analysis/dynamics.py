"""Per-step learning-dynamics metrics from rollout records (arXiv 2509.03646, §2.2 and §4.5), computed streaming.

:class:`DynamicsAnalyzer` takes rollout records in batches (any order), re-tags planning tokens with the chosen
lexicon, and keeps only per-step sums and counters, so memory does not grow with the number of tokens. Each row
of :meth:`DynamicsAnalyzer.rows` is one step bucket; its columns are listed in :data:`COLUMNS` with the paper
section that defines them (the math is in :mod:`hicra.analysis.metrics`).

Lexicon sensitivity (``lexicon_ablation > 0``): for each seed a random fraction of the SGs is dropped and the
lexicon-dependent columns (:data:`LEXICON_COLUMNS`) are recomputed. Because gram matches are independent of each
other, the occurrences of a sub-lexicon are exactly the full lexicon's occurrences of the kept grams; the text is
tagged once and each variant's mask is rebuilt from the kept occurrences with the tagger's rule (a token is a
planning token iff one of its non-whitespace characters lies inside an occurrence), intersected with the full
lexicon's mask. Tests check this against tagging with the sub-lexicon itself.

Deviations / choices: tokens without logprobs (or entropies) are left out of the perplexity (entropy and fork)
columns, which are then empty (nan); SG occurrences nested in a longer occurrence are not counted separately.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any, Sequence

import numpy as np

from hicra.analysis.inputs import group_key, is_correct
from hicra.analysis.metrics import (NAN, conditional_entropy, following_words, maximal_occurrences,
                                    mean_pass_at_k, relative_to_first, semantic_entropy, top_fraction_mask)
from hicra.analysis.options import AnalysisConfig
from hicra.records import RecordError
from hicra.tagging.matcher import WHITESPACE_CHAR
from hicra.tagging.tagger import PlanningTagger, TaggedText, tokens_covered

# column → (meaning, paper section); pass_at_{k} columns are added per configured k
COLUMNS: dict[str, tuple[str, str]] = {
    "step": ("first optimizer step of the bucket", ""),
    "n_completions": ("completions in the bucket", ""),
    "n_tokens": ("completion tokens in the bucket", ""),
    "accuracy": ("fraction of correct completions (`correct`, else reward >= threshold)", "§2.2"),
    "mean_reward": ("mean reward", ""),
    "mean_length": ("mean completion length in tokens", "§2.2"),
    "pass_at_k": ("unbiased Pass@k averaged over prompt groups with >= k samples", "§4"),
    "planning_ratio": ("planning tokens / all tokens", "§2.1"),
    "ppl_planning": ("perplexity exp(mean NLL) of planning tokens", "§2.2.1"),
    "ppl_execution": ("perplexity exp(mean NLL) of execution tokens", "§2.2.1"),
    "rel_ppl_planning": ("ppl_planning / its value at the first step", "§2.2.1"),
    "rel_ppl_execution": ("ppl_execution / its value at the first step", "§2.2.1"),
    "entropy_planning": ("mean token entropy (nats) of planning tokens", "§2.2.1"),
    "entropy_execution": ("mean token entropy (nats) of execution tokens", "§2.2.1"),
    "semantic_entropy": ("Shannon entropy (nats) of the SG frequency distribution", "§2.2.2"),
    "sg_occurrences": ("SG occurrences (maximal, i.e. not nested in a longer one)", "§2.2.2"),
    "sg_distinct": ("distinct SGs used", "§2.2.2"),
    "conditional_entropy": ("H(next n words | SG), nats", "§2.2.2"),
    "planning_high_entropy_frac": ("fraction of planning tokens among the top-q entropy tokens", "§4.5"),
    "high_entropy_planning_frac": ("fraction of top-q entropy (fork) tokens that are planning tokens", "§4.5"),
}
LEXICON_COLUMNS = ("planning_ratio", "ppl_planning", "ppl_execution", "rel_ppl_planning", "rel_ppl_execution",
                   "entropy_planning", "entropy_execution", "semantic_entropy", "sg_occurrences", "sg_distinct",
                   "conditional_entropy", "planning_high_entropy_frac", "high_entropy_planning_frac")

# per-bucket token sums of one lexicon variant (indices into a vector)
_N_PLAN, _N_EXEC, _NLL_P, _NLL_NP, _NLL_E, _NLL_NE, _ENT_P, _ENT_NP, _ENT_E, _ENT_NE, _F_PLAN, _F_FORK, _F_BOTH = range(13)
_N_SUMS = 13


def _perplexity(nll_sum: float, n: float) -> float:
    """exp(mean NLL) from sums (§2.2.1); inf instead of an overflow, nan without tokens."""
    return math.exp(min(nll_sum / n, 710.0)) if n else NAN


def columns(pass_k: Sequence[int]) -> list[str]:
    """Metric-row columns in output order."""
    out = []
    for name in COLUMNS:
        out.extend(f"pass_at_{k}" for k in pass_k) if name == "pass_at_k" else out.append(name)
    return out


def ablated_grams(grams: Sequence[str], fraction: float, seed: int) -> frozenset[str]:
    """The grams kept when dropping round(fraction · |grams|) of them uniformly at random (seeded)."""
    rng = np.random.default_rng(seed)
    n_drop = int(round(fraction * len(grams)))
    dropped = set(rng.choice(len(grams), size=n_drop, replace=False).tolist()) if n_drop else set()
    return frozenset(g for i, g in enumerate(grams) if i not in dropped)


class _Batch:
    """One tagged batch as flat arrays plus the character geometry needed to re-mask ablated lexicons."""

    def __init__(self, tagged: list[TaggedText], batch: Sequence[tuple[int, dict[str, Any]]], bucket_of: np.ndarray,
                 top_q: float, source: str):
        self.tagged = tagged
        self.lengths = np.fromiter((len(t.token_ids) for t in tagged), np.int64, len(tagged))
        n = int(self.lengths.sum())
        self.ubuckets, inv = np.unique(bucket_of, return_inverse=True)
        self.seq_b = inv
        self.tok_b = np.repeat(inv, self.lengths)
        self.logprobs = self._flat(batch, "logprobs", n, source)
        self.entropies = self._flat(batch, "entropies", n, source)
        has_ent = ~np.isnan(self.entropies)
        self.fork = top_fraction_mask(np.where(has_ent, self.entropies, -np.inf), self.lengths, top_q) & has_ent
        self.has_ent = has_ent
        self.planning = np.concatenate([t.planning for t in tagged]) if n else np.zeros(0, bool)
        self._geometry: tuple | None = None

    def _flat(self, batch: Sequence[tuple[int, dict[str, Any]]], name: str, n: int, source: str) -> np.ndarray:
        out = np.full(n, np.nan)
        pos = 0
        for (lineno, rec), length in zip(batch, self.lengths.tolist()):
            vals = rec.get(name)
            if vals is not None and length:
                try:
                    out[pos:pos + length] = np.asarray(vals, dtype=np.float64)
                except (TypeError, ValueError):
                    raise RecordError(f"{source}:{lineno}: field {name!r} must be a list of numbers") from None
            pos += length
        return out

    def planning_for(self, kept: frozenset[str]) -> np.ndarray:
        """[N] planning mask when only occurrences of ``kept`` grams count (the tagger's rule, vectorised)."""
        if self._geometry is None:
            texts = [t.text for t in self.tagged]
            starts = np.cumsum([0] + [len(t) + 1 for t in texts])
            joined = WHITESPACE_CHAR.sub(" ", "\x00".join(texts))
            solid = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32) != ord(" ")
            occ = [(o.start + starts[i], o.end + starts[i], o.gram) for i, t in enumerate(self.tagged) for o in t.spans]
            tok = [t.offsets + starts[i] for i, t in enumerate(self.tagged)]
            tok = np.concatenate(tok) if tok else np.zeros((0, 2), np.int64)
            self._geometry = (solid, occ, tok)
        solid, occ, tok = self._geometry
        if not len(tok):
            return np.zeros(0, bool)
        keep = np.asarray([(a, b) for a, b, g in occ if g in kept], dtype=np.int64).reshape(-1, 2)
        # a sub-lexicon's planning tokens are a subset of the full lexicon's; the AND keeps any token-level rule
        # of the tagger (e.g. whitespace-only tokens are never planning tokens)
        return tokens_covered(keep[:, 0], keep[:, 1], solid, tok) & self.planning


class DynamicsAnalyzer:
    """Streaming per-step metrics for one run (see module docstring)."""

    def __init__(self, config: AnalysisConfig, tagger: PlanningTagger):
        self.config = config
        self.tagger = tagger
        grams = tagger.lexicon.grams
        self.variants: list[frozenset[str] | None] = [None]  # None = the full lexicon (the tagger's own masks)
        if config.lexicon_ablation > 0:
            self.variants += [ablated_grams(grams, config.lexicon_ablation, s) for s in range(config.seeds)]
        self._seq: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(4))  # n, tokens, reward, correct
        self._groups: dict[int, dict[tuple, list[int]]] = defaultdict(dict)
        self._tok = [defaultdict(lambda: np.zeros(_N_SUMS)) for _ in self.variants]
        self._sg = [defaultdict(Counter) for _ in self.variants]
        self._pairs = [defaultdict(Counter) for _ in self.variants]
        self.samples: dict[int, tuple[float, TaggedText, dict[str, Any]]] = {}
        self.n_records = 0

    # ------------------------------------------------------------------------------------------------- input
    def add(self, batch: Sequence[tuple[int, dict[str, Any]]], source: str = "") -> None:
        """Add (line number, record) pairs; token ids are tagged from ``completion_ids`` or by tokenising text."""
        if not batch:
            return
        recs = [r for _, r in batch]
        tagged = self._tag(batch, source)
        bucket_of = np.fromiter((r["step"] // self.config.bucket * self.config.bucket for r in recs), np.int64,
                                len(recs))
        b = _Batch(tagged, batch, bucket_of, self.config.top_q, source)
        self.n_records += len(recs)
        for i, rec in enumerate(recs):
            bucket = int(bucket_of[i])
            correct = is_correct(rec, self.config.correct_threshold)
            self._seq[bucket] += (1, b.lengths[i], float(rec["reward"]), correct)
            g = self._groups[bucket].setdefault(group_key(rec), [0, 0])
            g[0] += 1
            g[1] += correct
            self._keep_sample(bucket, tagged[i], rec)
        following: dict[tuple[int, int], tuple[str, ...]] = {}
        for v, kept in enumerate(self.variants):
            planning = b.planning if kept is None else b.planning_for(kept)
            self._add_tokens(v, b, planning)
            self._add_grams(v, b, kept, following)

    def _tag(self, batch: Sequence[tuple[int, dict[str, Any]]], source: str) -> list[TaggedText]:
        with_ids = [i for i, (_, r) in enumerate(batch) if r.get("completion_ids") is not None]
        without = [i for i, (_, r) in enumerate(batch) if r.get("completion_ids") is None]
        out: list[TaggedText | None] = [None] * len(batch)
        if with_ids:
            vocab = len(self.tagger.pieces.lengths)
            for i in with_ids:
                ids = batch[i][1]["completion_ids"]
                if ids and (max(ids) >= vocab or min(ids) < 0):
                    raise RecordError(f"{source}:{batch[i][0]}: token id out of the tokenizer's range 0..{vocab - 1} "
                                      "(wrong --tokenizer?)")
            for i, t in zip(with_ids, self.tagger.tag_ids([batch[i][1]["completion_ids"] for i in with_ids])):
                out[i] = t
        if without:
            for i, t in zip(without, self.tagger.tag_texts([batch[i][1]["completion"] for i in without])):
                out[i] = t
        return out  # type: ignore[return-value]

    def _add_tokens(self, v: int, b: _Batch, planning: np.ndarray) -> None:
        nb = len(b.ubuckets)
        execution = ~planning
        has_lp = ~np.isnan(b.logprobs)
        nll = np.where(has_lp, -b.logprobs, 0.0)
        ent = np.where(b.has_ent, b.entropies, 0.0)

        def count(weights: np.ndarray) -> np.ndarray:
            return np.bincount(b.tok_b, weights=weights.astype(np.float64), minlength=nb)

        sums = np.stack([count(planning), count(execution),
                         count(nll * planning), count(has_lp & planning),
                         count(nll * execution), count(has_lp & execution),
                         count(ent * planning), count(b.has_ent & planning),
                         count(ent * execution), count(b.has_ent & execution),
                         count(b.has_ent & planning), count(b.fork), count(b.fork & planning)], axis=1)
        for j, bucket in enumerate(b.ubuckets.tolist()):
            self._tok[v][bucket] += sums[j]

    def _add_grams(self, v: int, b: _Batch, kept: frozenset[str] | None,
                   following: dict[tuple[int, int], tuple[str, ...]]) -> None:
        n = self.config.ngram
        for i, t in enumerate(b.tagged):
            if not t.spans:
                continue
            bucket = int(b.ubuckets[b.seq_b[i]])
            occ = [(o.start, o.end, o.gram) for o in t.spans if kept is None or o.gram in kept]
            sg, pairs = self._sg[v][bucket], self._pairs[v][bucket]
            for _, end, gram in maximal_occurrences(occ):
                words = following.get((i, end))
                if words is None:
                    words = following[i, end] = following_words(t.text, end, n)
                sg[gram] += 1
                pairs[gram, words] += 1

    def _keep_sample(self, bucket: int, tagged: TaggedText, rec: dict[str, Any]) -> None:
        """Keep, per bucket, one short completion rich in planning tokens for the Figure-1-style traces."""
        n = len(tagged.token_ids)
        if not n or not tagged.spans:
            return
        score = float(tagged.planning.sum()) / n + (0.05 if is_correct(rec, self.config.correct_threshold) else 0)
        score -= 0.5 * max(0, n - 350) / 350  # prefer traces that fit on a screen
        if bucket not in self.samples or score > self.samples[bucket][0]:
            meta = {k: rec.get(k) for k in ("step", "prompt_id", "reward", "correct", "task")}
            self.samples[bucket] = (score, tagged, meta)

    # ------------------------------------------------------------------------------------------------ output
    def _lexicon_rows(self, v: int, buckets: list[int]) -> list[dict[str, float]]:
        rows = []
        for bucket in buckets:
            s = self._tok[v][bucket]
            n_tok = s[_N_PLAN] + s[_N_EXEC]
            sg = self._sg[v][bucket]
            rows.append({
                "planning_ratio": s[_N_PLAN] / n_tok if n_tok else NAN,
                "ppl_planning": _perplexity(s[_NLL_P], s[_NLL_NP]),
                "ppl_execution": _perplexity(s[_NLL_E], s[_NLL_NE]),
                "entropy_planning": s[_ENT_P] / s[_ENT_NP] if s[_ENT_NP] else NAN,
                "entropy_execution": s[_ENT_E] / s[_ENT_NE] if s[_ENT_NE] else NAN,
                "semantic_entropy": semantic_entropy(sg.elements()),
                "sg_occurrences": float(sum(sg.values())),
                "sg_distinct": float(len(sg)),
                "conditional_entropy": conditional_entropy(self._pairs[v][bucket]),
                "planning_high_entropy_frac": s[_F_BOTH] / s[_F_PLAN] if s[_F_PLAN] else NAN,
                "high_entropy_planning_frac": s[_F_BOTH] / s[_F_FORK] if s[_F_FORK] else NAN,
            })
        for cls in ("planning", "execution"):
            rel = relative_to_first([r[f"ppl_{cls}"] for r in rows])
            for r, x in zip(rows, rel):
                r[f"rel_ppl_{cls}"] = x
        return [{k: float(r[k]) for k in LEXICON_COLUMNS} for r in rows]

    def buckets(self) -> list[int]:
        return sorted(self._seq)

    def rows(self) -> list[dict[str, float]]:
        """One metrics row per step bucket (columns: :func:`columns`), sorted by step; [] without records."""
        buckets = self.buckets()
        out = []
        for bucket, lex in zip(buckets, self._lexicon_rows(0, buckets)):
            n, n_tok, reward, correct = self._seq[bucket].tolist()
            row: dict[str, float] = {"step": bucket, "n_completions": int(n), "n_tokens": int(n_tok),
                                     "accuracy": correct / n, "mean_reward": reward / n, "mean_length": n_tok / n}
            groups = [tuple(g) for g in self._groups[bucket].values()]
            row.update({f"pass_at_{k}": mean_pass_at_k(groups, k) for k in self.config.pass_k})
            row.update(lex)
            out.append({c: row[c] for c in columns(self.config.pass_k)})
        return out

    def ablation_rows(self) -> list[dict[str, float]]:
        """Lexicon-dependent columns per (seed, step) for each ablated lexicon; [] when ablation is off."""
        buckets = self.buckets()
        out = []
        for seed, v in enumerate(range(1, len(self.variants))):
            for bucket, lex in zip(buckets, self._lexicon_rows(v, buckets)):
                out.append({"seed": seed, "step": bucket, "n_grams": len(self.variants[v] or ()), **lex})
        return out

    def sg_counts(self) -> list[dict[str, Any]]:
        """(step, gram, count) of the full lexicon's SG distribution, the input of the semantic entropy."""
        return [{"step": b, "gram": g, "count": c} for b in self.buckets()
                for g, c in self._sg[0][b].most_common()]
