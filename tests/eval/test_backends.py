"""Generation backends: vLLM request planning (pure), the missing-vLLM error, prompts."""

from __future__ import annotations

import sys

import pytest

from hicra.eval.backends import Request, Sampling, VLLMBackend, make_backend, vllm_plan, vllm_sampling_kwargs
from hicra.eval.prompts import DEFAULT_INSTRUCTION, build_prompt, user_message


def test_vllm_sampling_kwargs_follow_the_paper_protocol():
    assert vllm_sampling_kwargs(Sampling(0.6, 0.95, 1024, 0), n=32, seed=7) == {
        "n": 32, "temperature": 0.6, "top_p": 0.95, "max_tokens": 1024, "seed": 7}
    greedy = vllm_sampling_kwargs(Sampling(0.0, 0.95, 64), n=1, seed=0)
    assert greedy["temperature"] == 0.0 and greedy["top_p"] == 1.0


def test_vllm_plan_groups_samples_of_a_prompt():
    reqs = [Request(("a", 1), "PA"), Request(("b", 0), "PB"), Request(("a", 0), "PA"), Request(("a", 2), "PA")]
    plan = vllm_plan(reqs, Sampling(seed=3))
    assert [(p, keys, kw["n"]) for p, keys, kw in plan] == [
        ("PA", [("a", 0), ("a", 1), ("a", 2)], 3), ("PB", [("b", 0)], 1)]
    assert plan[0][2]["seed"] != plan[1][2]["seed"]
    # extending a run (samples 4..31 of a problem) must not reuse the seed of samples 0..3
    first = vllm_plan([Request(("a", k), "PA") for k in range(4)], Sampling())[0][2]["seed"]
    later = vllm_plan([Request(("a", k), "PA") for k in range(4, 32)], Sampling())[0][2]["seed"]
    assert first != later and all(0 <= s < 2 ** 31 for s in (first, later))


def test_vllm_missing_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm → ImportError
    with pytest.raises(RuntimeError, match=r"pip install 'hicra\[vllm\]'"):
        VLLMBackend("smollm2")
    with pytest.raises(ValueError, match="unknown backend 'tgi'; valid: transformers, vllm"):
        make_backend("tgi", "smollm2", "auto", 1, 0)


def test_prompt_uses_chat_template_and_instruction(smollm2_tokenizer):
    assert user_message("What is 1+1? ") == f"What is 1+1?\n{DEFAULT_INSTRUCTION}"
    prompt = build_prompt(smollm2_tokenizer, "What is 1+1?")
    assert prompt.rstrip().endswith("<|im_start|>assistant")
    assert f"<|im_start|>user\nWhat is 1+1?\n{DEFAULT_INSTRUCTION}<|im_end|>" in prompt
    assert "<|im_start|>system\nBe brief.<|im_end|>" in build_prompt(smollm2_tokenizer, "Q", system_prompt="Be brief.")
    assert build_prompt(smollm2_tokenizer, "Q", instruction="", chat_template=False) == "Q\n"
