"""The lean decode loop (hicra.generation) against transformers' ``generate`` on the real SmolLM2-135M: identical
greedy tokens, the same sampling distribution (a chi-square test that a wrong temperature fails), fallback, and its
use by the trainer and the eval backend."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import chi2_contingency
from transformers import GenerationConfig

from hicra import generation
from hicra.generation import Sampler, decode, plan_for

SAMPLES = 8_000  # per path, from the model's real next-token logits


@pytest.fixture(scope="module")
def smollm2():
    from hicra.models import load_model, load_tokenizer

    torch.set_num_threads(1)
    return load_model("smollm2").eval(), load_tokenizer("smollm2")


def _batch(tokenizer, texts):
    return tokenizer(texts, return_tensors="pt", padding=True)  # left padding (hicra.models.load_tokenizer)


def test_greedy_tokens_equal_generate_with_left_padding(smollm2):
    model, tokenizer = smollm2
    enc = _batch(tokenizer, ["The capital of France is", "1, 2, 3,", "Once upon a time there was a little"])
    assert (enc["attention_mask"] == 0).any()
    settings = dict(do_sample=False, max_new_tokens=5, pad_token_id=tokenizer.pad_token_id)
    with torch.no_grad():
        expected = model.generate(**enc, **settings)
        ours = generation.generate(model, **enc, **settings)
    assert torch.equal(ours, expected)


def test_rows_that_end_are_padded_and_the_loop_stops_when_all_have_ended(smollm2):
    model, tokenizer = smollm2
    enc = _batch(tokenizer, ["1, 2, 3,", "The capital of France is"])
    with torch.no_grad():
        first = model.generate(**enc, do_sample=False, max_new_tokens=1, pad_token_id=tokenizer.pad_token_id)
    eos = [int(first[0, -1]), int(first[1, -1])]  # the greedy first tokens end both rows at once
    plan = plan_for(model, enc["input_ids"], do_sample=False, max_new_tokens=4, eos_token_id=eos[:1],
                    pad_token_id=tokenizer.pad_token_id)
    out = decode(model, enc["input_ids"], enc["attention_mask"], plan)
    with torch.no_grad():
        expected = model.generate(**enc, do_sample=False, max_new_tokens=4, eos_token_id=eos[:1],
                                  pad_token_id=tokenizer.pad_token_id)
    assert torch.equal(out, expected)
    start = enc["input_ids"].shape[1]
    assert (out[0, start + 1:] == tokenizer.pad_token_id).all() and out.shape[1] == start + 4
    both = plan_for(model, enc["input_ids"], do_sample=False, max_new_tokens=4, eos_token_id=eos,
                    pad_token_id=tokenizer.pad_token_id)
    assert decode(model, enc["input_ids"], enc["attention_mask"], both).shape[1] == enc["input_ids"].shape[1] + 1


def _reference_samples(model, logits, config, n, seed):
    """``generate``'s token selection for these logits: its logits processors, softmax, ``torch.multinomial``."""
    processors = model._get_logits_processor(generation_config=config, input_ids_seq_length=1,
                                             device=logits.device, model_kwargs={})
    torch.manual_seed(seed)
    return torch.multinomial(processors(None, logits.clone()).softmax(-1)[0], n, replacement=True)


def _our_samples(sampler, logits, n, seed):
    """``n`` tokens from the batched sampler (rows of 500 copies of the prompt's logits)."""
    torch.manual_seed(seed)
    return torch.cat([sampler(logits.expand(500, -1)) for _ in range(n // 500)])


def _p_value(a, b):
    """Chi-square test of homogeneity of two token samples (tokens seen fewer than 10 times pooled)."""
    counts = torch.stack([torch.bincount(a, minlength=49152), torch.bincount(b, minlength=49152)])
    frequent = counts.sum(0) >= 10
    table = torch.cat([counts[:, frequent], counts[:, ~frequent].sum(1, keepdim=True)], dim=1)
    table = table[:, table.sum(0) > 0]
    return chi2_contingency(table.numpy()).pvalue, int(frequent.sum())


@pytest.mark.parametrize("temperature,top_p,top_k", [(0.7, 1.0, 0), (0.6, 0.95, 0), (1.2, 0.999, 40)])
def test_sampling_follows_generates_distribution_and_a_wrong_temperature_is_caught(smollm2, temperature, top_p,
                                                                                    top_k):
    model, tokenizer = smollm2
    enc = _batch(tokenizer, ["Name a colour:"])
    with torch.no_grad():
        logits = model(**enc).logits[:, -1].float()
    config = GenerationConfig(do_sample=True, temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=1)
    plan = plan_for(model, enc["input_ids"], config)
    assert plan.sampler == Sampler(temperature=temperature, top_k=top_k, top_p=top_p)

    reference = _reference_samples(model, logits, model._prepare_generation_config(config)[0], SAMPLES, seed=1)
    p_same, categories = _p_value(_our_samples(plan.sampler, logits, SAMPLES, seed=2), reference)
    assert categories >= 8  # the prompt's next token is spread over many tokens: the test has power
    assert p_same > 1e-3

    wrong = Sampler(temperature=temperature * 1.2, top_k=top_k, top_p=top_p)
    p_wrong, _ = _p_value(_our_samples(wrong, logits, SAMPLES, seed=2), reference)
    assert p_wrong < 1e-4


def test_trl_generation_config_maps_to_the_sampler(smollm2):
    model, tokenizer = smollm2
    enc = _batch(tokenizer, ["Hi"])
    config = GenerationConfig(max_new_tokens=96, do_sample=True, pad_token_id=tokenizer.pad_token_id,
                              bos_token_id=tokenizer.bos_token_id, eos_token_id=[tokenizer.eos_token_id],
                              temperature=0.7, top_p=1.0, top_k=0, min_p=None, repetition_penalty=1.0,
                              cache_implementation=None, disable_compile=True)
    plan = plan_for(model, enc["input_ids"], config)
    assert plan.sampler == Sampler(temperature=0.7) and plan.max_new_tokens == 96
    assert plan.eos_ids == (tokenizer.eos_token_id,) and plan.pad_id == tokenizer.pad_token_id


def test_unsupported_settings_fall_back_to_generate_with_a_warning(smollm2):
    model, tokenizer = smollm2
    enc = _batch(tokenizer, ["The capital of France is"])
    settings = dict(do_sample=False, max_new_tokens=3, repetition_penalty=1.3, pad_token_id=tokenizer.pad_token_id)
    assert "RepetitionPenalty" in plan_for(model, enc["input_ids"], **settings)
    with torch.no_grad():
        expected = model.generate(**enc, **settings)
        with pytest.warns(UserWarning, match="does not support .*RepetitionPenalty"):
            assert torch.equal(generation.generate(model, **enc, **settings), expected)


def test_trainer_samples_through_the_decode_loop(tiny_values, monkeypatch):
    from hicra.trl.config import HICRAConfig
    from hicra.trl.run import build_trainer

    calls = []
    real = generation.decode
    monkeypatch.setattr(generation, "decode", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    for fast in (True, False):
        trainer = build_trainer(HICRAConfig(**dict(tiny_values, fast_generation=fast)))
        trainer.model.train()
        torch.manual_seed(0)
        batch = trainer._generate_and_score_completions(next(iter(trainer.get_train_dataloader())))
        assert batch["completion_ids"].shape[0] == tiny_values["per_device_train_batch_size"]
        assert len(calls) == 1  # only the fast run decoded through hicra.generation
        assert "generate" not in vars(trainer.model)  # the route to the loop lasts only for the call
    assert calls[0].sampler == Sampler(temperature=1.0) and calls[0].max_new_tokens == 10


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="no oneDNN in this torch build")
def test_the_packed_lm_head_gives_the_same_logits_and_is_restored(smollm2):
    model, tokenizer = smollm2
    enc = _batch(tokenizer, ["The capital of France is", "1, 2, 3,"])
    head = model.get_output_embeddings()
    with torch.no_grad():
        plain = model(**enc).logits
        with generation.packed_head(model):
            assert "forward" in vars(head)  # the oneDNN product is in place
            packed = model(**enc).logits
    assert "forward" not in vars(head)
    assert not torch.equal(packed, torch.zeros_like(packed))
    torch.testing.assert_close(packed, plain, rtol=1e-5, atol=1e-4)
