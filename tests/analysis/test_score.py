import json

import pytest
import torch

from hicra.analysis.options import AnalysisConfig
from hicra.analysis.pipeline import analyze_run
from hicra.analysis.score import ScoreConfig, Scorer, score_file
from hicra.cli import main
from hicra.core.masks import token_entropy


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, smollm2_tokenizer):
    """A tiny random LlamaForCausalLM with SmolLM2's vocabulary, saved with its tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(smollm2_tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True,
                         bos_token_id=smollm2_tokenizer.bos_token_id, eos_token_id=smollm2_tokenizer.eos_token_id)
    path = tmp_path_factory.mktemp("tiny_llama")
    LlamaForCausalLM(config).save_pretrained(path)
    smollm2_tokenizer.save_pretrained(path)
    return path


def _records():
    return [{"step": s, "prompt_id": f"p{i}", "completion": text, "reward": float(i % 2),
             **({"prompt": "Solve: 2 + 2."} if i else {})}
            for s in range(2) for i, text in enumerate(["Let me think. 2 + 2 = 4.", "Wait, 4.", "So the answer is 4."])]


def test_scores_equal_a_direct_forward_pass(tiny_model_dir):
    from hicra.models import load_model, load_tokenizer

    model, tok = load_model(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir))
    scorer = Scorer(model, tok, ScoreConfig(batch_size=3, head_chunk=5), name="tiny")
    recs = _records()[:3]
    out = scorer.score(recs)
    for rec, got in zip(recs, out):
        comp = tok(rec["completion"], add_special_tokens=False)["input_ids"]
        prompt = tok(rec["prompt"], add_special_tokens=False)["input_ids"] if "prompt" in rec else [tok.bos_token_id]
        with torch.no_grad():
            logits = model(torch.tensor([prompt + comp])).logits[0, len(prompt) - 1:-1]
        logp = torch.log_softmax(logits, -1)
        assert got["completion_ids"] == comp and got["score_model"] == "tiny"
        assert got["logprobs"] == pytest.approx(logp[torch.arange(len(comp)), comp].tolist(), abs=1e-5)
        assert got["entropies"] == pytest.approx(token_entropy(logits).tolist(), abs=1e-5)
        assert got["completion"] == rec["completion"] and got["reward"] == rec["reward"]


def test_score_cli_resumes_and_feeds_analyze(tiny_model_dir, tmp_path, capsys):
    src, dst = tmp_path / "texts.jsonl", tmp_path / "scored.jsonl"
    recs = _records() + [_records()[0]]  # an exact duplicate stays a separate record
    src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    # a previous interrupted run already scored two records
    from hicra.models import load_model, load_tokenizer

    scorer = Scorer(load_model(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir)), ScoreConfig())
    done = "".join(json.dumps(r) + "\n" for r in scorer.score(recs[:3]))
    dst.write_text(done[:-40], encoding="utf-8")  # ...and was killed while appending the third
    assert main(["score", "--model", str(tiny_model_dir), "--input", str(src), "--output", str(dst),
                 "--batch-size", "2"]) == 0
    out = capsys.readouterr()
    assert "scored 5 records" in out.out and "dropped an incomplete last line" in out.err
    lines = [json.loads(x) for x in dst.read_text().splitlines()]
    assert len(lines) == len(recs) and all(len(r["logprobs"]) == len(r["completion_ids"]) for r in lines)
    assert score_file(src, dst, scorer, progress=False) == (0, len(recs))  # nothing left to do
    rows = analyze_run(dst, AnalysisConfig(tokenizer="smollm2")).rows
    assert len(rows) == 2 and all(r["ppl_execution"] > 1 and r["entropy_execution"] > 0 for r in rows)


def test_token_ids_outside_the_vocabulary_fail_before_anything_is_scored(tiny_model_dir, tmp_path, capsys):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    bad = {**_records()[1], "completion_ids": [5, 10 ** 9]}
    src.write_text(json.dumps(_records()[0]) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    assert main(["score", "--model", str(tiny_model_dir), "--input", str(src), "--output", str(dst)]) == 1
    err = capsys.readouterr().err.splitlines()[-1]  # after the weight-loading progress bar
    assert err.startswith("hicra score: error: ") and "token id 1000000000, outside the vocabulary" in err
    assert not dst.exists()


def test_score_reads_a_verl_dump(tiny_model_dir, tmp_path, monkeypatch):
    """`hicra score --input` takes verl's rollout-dump directory (hicra.importers); analyze then has token metrics."""
    from pathlib import Path

    monkeypatch.setenv("HICRA_HOME", str(tmp_path / "home"))
    dump = Path(__file__).resolve().parents[1] / "data" / "verl_dump"
    dst = tmp_path / "scored.jsonl"
    assert main(["score", "--model", str(tiny_model_dir), "--input", str(dump), "--output", str(dst)]) == 0
    lines = [json.loads(x) for x in dst.read_text().splitlines()]
    assert len(lines) == 16 and all(len(r["entropies"]) == len(r["completion_ids"]) > 0 for r in lines)
    rows = analyze_run(dst, AnalysisConfig(tokenizer="smollm2")).rows
    assert [r["step"] for r in rows] == [0, 1] and all(r["entropy_execution"] > 0 for r in rows)
