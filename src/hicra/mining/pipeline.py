"""The Strategic-Gram mining pipeline end to end (arXiv 2509.03646, §2.1 and Appendix A), stages in order:

a. successful solutions (:mod:`~hicra.mining.corpus`) → b. normalised 3–5-grams and c. candidates
(:mod:`~hicra.mining.ngrams`) → d. embedding, clustering, the "frequent across, sparse within" signature tested on
each grouped concept (``signature_order=concept``, default; ``ngram`` tests it per n-gram in c), top 20% of clusters
by cluster document frequency (:mod:`~hicra.mining.cluster`) → e. optional LLM labels
(:mod:`~hicra.mining.annotate`) → optional merge with the paper's list → the versioned lexicon JSON
(:meth:`hicra.lexicon.Lexicon.save`), a sidecar ``NAME.mining.json`` (config and stage counts) and optionally the
review CSV (stage f, :mod:`~hicra.mining.review`). An empty lexicon is never written.

Per-gram metadata in the lexicon: ``source`` (mined | paper), ``cluster`` (rank of its cluster, 0 = highest cluster
document frequency), ``cluster_df``, ``cluster_size``, ``cluster_mean_count`` (uses of the concept per containing
solution), ``df`` (fraction of solutions), ``df_count``, ``mean_count`` (uses per containing solution) and, after
stage e, ``llm_label``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hicra.io import Outputs, check_distinct
from hicra.lexicon import Lexicon, load_lexicon, make_lexicon
from hicra.mining.cluster import Embedder, Selection, group_candidates
from hicra.mining.config import MineConfig, MiningError
from hicra.mining.corpus import Corpus, load_corpus
from hicra.mining.ngrams import Candidates, count_ngrams
from hicra.records import rollouts_path


@dataclass
class MiningResult:
    """Everything a run produced: the lexicon, the intermediate stages and their counts, in order."""

    lexicon: Lexicon
    corpus: Corpus
    candidates: Candidates
    selection: Selection
    counts: list[tuple[str, str, int]] = field(default_factory=list)  # (stage, what, count)
    seconds: dict[str, float] = field(default_factory=dict)


def annotation_cache_path(cfg: MineConfig) -> Path:
    if cfg.llm_cache:
        return Path(cfg.llm_cache)
    if not cfg.output:
        raise MiningError("--llm-cache is required when no --output is given")
    return Path(cfg.output).with_suffix(".annotations.jsonl")


def _annotate(grams: list[str], metadata: dict[str, dict[str, Any]], cfg: MineConfig) -> dict[str, int]:
    from hicra.mining.annotate import ChatClient, annotate

    client = ChatClient(cfg.llm_base_url, cfg.llm_model, api_key=os.environ.get(cfg.llm_api_key_env, ""),
                        timeout=cfg.llm_timeout, max_retries=cfg.llm_max_retries, backoff=cfg.llm_backoff)
    result = annotate(grams, client, annotation_cache_path(cfg), cfg.llm_batch_size, cfg.progress)
    for gram, label in result.labels.items():
        metadata[gram]["llm_label"] = label
    return result.counts


def mine(cfg: MineConfig, embed: Embedder | None = None) -> MiningResult:
    """Run stages a–e and build the lexicon (nothing is written; see :func:`write_outputs`)."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    corpus = load_corpus(cfg)
    seconds["a"] = time.perf_counter() - t
    counts = [("a", k, v) for k, v in corpus.counts.items()]
    t = time.perf_counter()
    cand = count_ngrams(corpus.texts, cfg)
    seconds["b+c"] = time.perf_counter() - t
    counts += [("b" if k in ("word tokens", "distinct n-grams") else "c", k, v) for k, v in cand.counts.items()]
    signature = (f"the signature (min_df={cfg.min_df}, min_doc_count={cfg.min_doc_count}, max_df={cfg.max_df}, "
                 f"max_mean_count={cfg.max_mean_count}); lower --min-df or --min-doc-count")
    if not len(cand):
        what = ("has " + signature if cfg.signature_order == "ngram" else
                f"occurs in {cfg.candidate_min_doc_count} or more solutions; lower --candidate-min-doc-count")
        raise MiningError(f"{corpus.path}: no {cfg.min_n}-{cfg.max_n}-gram of the {len(corpus.texts)} solutions "
                          f"{what}")
    t = time.perf_counter()
    sel = group_candidates(cand, cfg, embed)
    seconds["d"] = time.perf_counter() - t
    counts += [("d", k, v) for k, v in sel.counts.items()] + [("d", "grams in kept clusters", len(sel.grams))]
    if not sel.grams:
        raise MiningError(f"{corpus.path}: no grouped concept of the {len(corpus.texts)} solutions has {signature}")
    grams = list(sel.grams)
    metadata = {g: {"source": "mined", **sel.metadata[g]} for g in grams}
    if cfg.llm_base_url:
        t = time.perf_counter()
        counts += [("e", k, v) for k, v in _annotate(grams, metadata, cfg).items()]
        seconds["e"] = time.perf_counter() - t
        if cfg.drop_procedural:
            grams = [g for g in grams if metadata[g].get("llm_label") != "procedural"]
            counts.append(("e", "kept after dropping procedural", len(grams)))
            if not grams:
                raise MiningError("the LLM labelled every mined gram procedural; nothing left (drop "
                                  "--drop-procedural to keep them)")
    if cfg.merge_paper:
        paper = load_lexicon("paper")
        added = [g for g in paper.grams if g not in metadata]
        grams += added
        metadata.update({g: {"source": "paper"} for g in added})
        counts.append(("out", "paper grams merged", len(added)))
    source = (f"hicra mine: {corpus.path} field {corpus.text_field!r}, {len(corpus.texts)} successful solutions"
              + ("; merged with the paper's Appendix A list" if cfg.merge_paper else ""))
    lexicon = make_lexicon(cfg.name, grams, metadata, source)
    if not len(lexicon):
        raise MiningError("no gram survived the pipeline; nothing written (see the stage options in --help)")
    counts.append(("out", "grams in lexicon", len(lexicon)))
    return MiningResult(lexicon, corpus, cand, sel, counts, seconds)


def sidecar_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.stem + ".mining.json")


def inputs_of(cfg: MineConfig, config_file: str | None = None) -> list[tuple[str, Path]]:
    """The files ``mine`` reads, by flag: the corpus, the YAML config and the annotation cache (appended, never an
    output or the corpus)."""
    files: list[tuple[str, Path]] = [("--rollouts", rollouts_path(cfg.rollouts))] if cfg.rollouts else []
    if config_file:
        files.append(("--config", Path(config_file)))
    return files


def outputs_of(cfg: MineConfig) -> list[tuple[str, Path]]:
    out = [("--output", Path(cfg.output)), ("the sidecar", sidecar_path(cfg.output))]
    return out + ([("--review-csv", Path(cfg.review_csv))] if cfg.review_csv else [])


def check_outputs(cfg: MineConfig, config_file: str | None = None) -> None:
    """Refuse output paths that cannot be written or would overwrite an input, before any work is done."""
    if not cfg.output:
        raise MiningError("--output is required (path of the lexicon JSON to write)")
    if Path(cfg.output).is_dir():
        raise MiningError(f"--output {cfg.output}: is a directory")
    cache = [("--llm-cache", annotation_cache_path(cfg))] if cfg.llm_base_url or cfg.llm_cache else []
    check_distinct(outputs_of(cfg) + cache, inputs_of(cfg, config_file))
    if cfg.review_csv:
        from hicra.mining.review import refuse_existing_review

        refuse_existing_review(cfg.review_csv, "--review-csv")


def write_outputs(result: MiningResult, cfg: MineConfig, config_file: str | None = None) -> list[Path]:
    """Save the lexicon, the sidecar (config + counts + timings) and, if asked, the review CSV: all or none."""
    if not cfg.output:
        raise MiningError("--output is required (path of the lexicon JSON to write)")
    side = {"config": dataclasses.asdict(cfg),
            "counts": [{"stage": s, "what": w, "count": c} for s, w, c in result.counts],
            "seconds": {k: round(v, 3) for k, v in result.seconds.items()}}
    inputs = inputs_of(cfg, config_file)
    if cfg.llm_base_url or cfg.llm_cache:
        inputs.append(("--llm-cache", annotation_cache_path(cfg)))
    with Outputs(inputs) as out:
        written = [result.lexicon.save(cfg.output, out), out.write_json(sidecar_path(cfg.output), side,
                                                                         "the sidecar")]
        if cfg.review_csv:
            from hicra.mining.review import export_review

            written.append(export_review(result.lexicon, cfg.review_csv, result.corpus.texts, cfg.review_examples,
                                         cfg.progress, out))
    return written
