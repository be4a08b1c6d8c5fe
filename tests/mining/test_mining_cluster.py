"""Stage d: embedding (real MiniLM, offline), clustering, cluster document frequency, top-fraction selection."""

import json

import numpy as np
import pytest
from scipy import sparse

from hicra.mining.cluster import cluster_vectors, group_candidates, load_embedder, select_clusters
from hicra.mining.config import MineConfig, MiningError
from hicra.mining.ngrams import Candidates, count_ngrams
from hicra.mining.pipeline import mine


def candidates(grams, doc_sets, n_docs):
    rows = [sorted(s) for s in doc_sets]
    indptr = np.cumsum([0] + [len(r) for r in rows])
    docs = sparse.csr_matrix((np.ones(int(indptr[-1]), dtype=np.int8), np.concatenate(rows), indptr),
                             shape=(len(rows), n_docs))
    df = np.array([len(r) for r in rows])
    return Candidates(grams=list(grams), df=df, count=df.copy(), docs=docs, n_docs=n_docs)


def test_cluster_df_is_share_of_solutions_with_any_member():
    cand = candidates(["a b c", "a b d", "x y z", "p q r", "s t u"],
                      [{0, 1, 2}, {2, 3}, {0, 1, 2, 4}, {5}, {6, 7}], n_docs=10)
    labels = np.array([7, 7, 3, 5, 9])  # arbitrary ids: {a b c, a b d}, {x y z}, {p q r}, {s t u}
    sel = select_clusters(cand, labels, top_fraction=0.5)
    assert sel.counts == {"clusters": 4, "clusters kept": 2}
    assert sel.cluster_df.tolist() == [0.4, 0.4, 0.2, 0.1]  # ranked; the tie goes to the larger cluster
    assert sel.grams == ["a b c", "a b d", "x y z"]
    assert sel.metadata["a b d"] == {"cluster": 0, "cluster_df": 0.4, "cluster_size": 2, "cluster_mean_count": 1.0,
                                     "df": 0.2, "df_count": 2, "mean_count": 1.0}
    assert sel.labels.tolist() == [0, 0, 1, 3, 2]
    assert select_clusters(cand, labels, 0.2).grams == ["a b c", "a b d"]  # 20% of 4 clusters rounds up to 1


def test_minilm_groups_phrases_by_meaning(minilm):
    grams = ["we need to find", "we want to find", "our goal is to find",
             "the sum of the", "the sum of its", "sum of the digits",
             "multiplying both sides by", "multiply both sides by"]
    vectors = minilm(grams)
    assert vectors.shape == (8, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    labels = cluster_vectors(vectors, MineConfig(distance_threshold=0.35))
    assert labels[0] == labels[1] != labels[3]
    assert labels[3] == labels[4] != labels[6]
    assert labels[6] == labels[7]


def test_group_candidates_on_math500(math500_solutions, minilm):
    cfg = MineConfig(max_candidates=150)
    cand = count_ngrams(math500_solutions, cfg)
    sel = group_candidates(cand, cfg, embed=minilm)
    n_clusters = sel.counts["clusters"]
    assert 10 < n_clusters < len(cand)
    assert sel.counts["clusters kept"] == int(np.ceil(0.2 * sel.counts["clusters with the signature"]))
    assert set(sel.grams) <= set(cand.grams)
    ranks = [sel.metadata[g]["cluster"] for g in sel.grams]
    assert ranks == sorted(ranks) and max(ranks) == sel.counts["clusters kept"] - 1
    cdf = [sel.metadata[g]["cluster_df"] for g in sel.grams]
    assert cdf == sorted(cdf, reverse=True)
    # a kept cluster's df is at least its best member's df
    assert all(sel.metadata[g]["cluster_df"] >= sel.metadata[g]["df"] for g in sel.grams)


def test_kmeans_and_tfidf_options(math500_solutions):
    cfg = MineConfig(embedder="tfidf", cluster_method="kmeans", n_clusters=12, max_candidates=100)
    cand = count_ngrams(math500_solutions, cfg)
    sel = group_candidates(cand, cfg)
    assert sel.counts["clusters"] == 12 and sel.counts["clusters kept"] == 3
    default_k = group_candidates(cand, MineConfig(embedder="tfidf", cluster_method="kmeans"))
    assert default_k.counts["clusters"] == 10  # sqrt(100)


def test_unknown_embedder_is_a_clear_error():
    with pytest.raises(MiningError, match="field 'embedder' is 'nope'.*minilm, tfidf"):
        load_embedder("nope")


def test_concept_signature_counts_any_member_and_does_not_double_count_nesting():
    # a concept of two phrasings, each in 2 of 10 solutions (below min_docs=3), jointly in 4
    cand = candidates(["we need to", "we want to", "sum of the", "we need to find"],
                      [{0, 1}, {2, 3}, {0, 1, 2, 3, 4}, {0, 1}], n_docs=10)
    cand.docs.data[:] = 1
    labels = np.array([0, 0, 1, 0])  # "we need to find" nests "we need to": same concept
    sel = select_clusters(cand, labels, 1.0, signature=(3, 10, 1.5))
    assert sel.counts == {"clusters": 2, "clusters with the signature": 2, "clusters kept": 2}
    assert sel.metadata["we want to"]["cluster_df"] == 0.4 and sel.metadata["we want to"]["cluster_mean_count"] == 1
    assert select_clusters(cand, labels, 1.0, signature=(5, 10, 1.5)).grams == ["sum of the"]
    dense = candidates(["sum of the"], [{0, 1, 2}], n_docs=10)
    dense.docs.data[:] = 2  # two uses per containing solution
    assert select_clusters(dense, np.array([0]), 1.0, signature=(3, 10, 1.5)).grams == []


def test_rare_phrasings_of_a_frequent_strategy_survive_group_first(tmp_path, minilm):
    """§2.1 / Appendix A (later version): group equivalent n-grams first, then test the signature on the concept."""
    phrasings = ["We need to find.", "We want to find.", "Our goal is to find."]
    rows = [{"solution": f"{phrasings[i % 3]} Then {i} + 4 = {i + 4}. Let me check the result."} for i in range(60)]
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    base = dict(rollouts=str(path), min_df=0.5, top_cluster_fraction=1.0, progress=False)
    grouped = mine(MineConfig(**base), embed=minilm).lexicon.grams  # each phrasing: 1/3 of solutions < min_df
    per_ngram = mine(MineConfig(**base, signature_order="ngram"), embed=minilm).lexicon.grams
    for lex in (grouped, per_ngram):
        assert "let me check the result" in lex  # in every solution: frequent under either order
    kept = {g for g in grouped if "find" in g or "goal" in g or "want" in g or "need" in g}
    assert {"we need to find", "we want to find"} <= kept
    assert not any("find" in g or "goal" in g or "want" in g or "need" in g for g in per_ngram)
