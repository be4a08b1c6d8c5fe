"""Options of ``hicra analyze``/``report``/``judge``/``score``: one dataclass field each, with its help text.

Defaults → ``--config FILE.yaml`` → flags (see :mod:`hicra.config`).
"""

from __future__ import annotations

from dataclasses import dataclass

from hicra.config import SEED, check_fields, check_url, option
from hicra.importers import FIELD_HELP


MAX_ABLATIONS = 1000  # lexicon ablations (and their seeds) per analysis


@dataclass
class AnalysisConfig:
    """How rollouts become per-step learning-dynamics metrics (arXiv 2509.03646, §2.2, §4.5)."""

    lexicon: str = option("paper", "Strategic-Gram lexicon used to tag planning tokens (§2.1): built-in name (paper) "
                                   "or a lexicon file; tagging is recomputed from the token ids, so any lexicon works "
                                   "after training")
    tokenizer: str = option("", "tokenizer of the rollouts' token ids: smollm2, a Hugging Face id or a local path; "
                                "empty = the run's config.yaml `model` field if present, else smollm2")
    bucket: int = option(1, "aggregate steps in buckets of this many optimizer steps (row step = bucket start)", ge=1)
    top_q: float = option(0.3, "fraction of each completion's highest-entropy tokens counted as fork tokens (§4.5)",
                          gt=0, le=1)
    ngram: int = option(3, "words after a Strategic Gram forming the procedural n-gram of the conditional "
                           "entropy H(next n words | SG) (§2.2.2)", ge=1)
    pass_k: list[int] = option([1, 4, 8], "k values of the unbiased Pass@k over each prompt group (k <= group size)",
                               ge=1, unique=True)
    correct_threshold: float = option(0.5, "records without a `correct` field count as correct when "
                                           "reward >= this value")
    lexicon_ablation: float = option(0.0, "lexicon sensitivity: drop this random fraction of the SGs per seed and "
                                          "recompute the planning-token curves (0 = off; e.g. 0.3)", ge=0, lt=1)
    seeds: int = option(5, "number of random lexicon ablations (seeds 0..seeds-1) when --lexicon-ablation > 0", ge=1,
                        le=MAX_ABLATIONS)
    batch_size: int = option(512, "completions tagged per batch (memory vs. speed)", ge=1)
    field: str = option("", FIELD_HELP)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass
class JudgeConfig:
    """LLM judge of failed rollouts' error types (§4.3.1) through an OpenAI-compatible chat endpoint."""

    base_url: str = option("", "OpenAI-compatible API base URL, e.g. http://127.0.0.1:8000/v1 "
                               "(POST {base_url}/chat/completions)", check=check_url)
    model: str = option("", "judge model name sent in the request")
    per_step: int = option(8, "failed rollouts sampled per step (seeded, without replacement)", ge=0)
    seed: int = option(0, "sampling seed", **SEED)
    taxonomy: str = option("", "error taxonomy file (JSON or YAML, see hicra.analysis.judge); empty = the default "
                               "4-cause taxonomy")
    cache: str = option("", "judgment cache (JSONL, appended); empty = RUN_DIR/judgments.jsonl, or "
                            "<input>.judgments.jsonl beside a rollout file")
    api_key_env: str = option("OPENAI_API_KEY", "environment variable holding the API key (sent as a Bearer token "
                                                "when set)")
    max_chars: int = option(6000, "longest response text sent to the judge (the end is kept: errors show there)", ge=1)
    retries: int = option(4, "retries per request on connection errors, HTTP 429 and 5xx", ge=0)
    backoff: float = option(1.0, "first retry delay in seconds; doubles on each retry", ge=0)
    timeout: float = option(60.0, "HTTP timeout per request, seconds", gt=0)
    correct_threshold: float = option(0.5, "without a `correct` field a rollout failed when reward < this")

    def __post_init__(self) -> None:
        check_fields(self)
