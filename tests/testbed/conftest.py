"""Testbed fixtures: problems, generated traces, and a toy-sized warm-started policy (built in seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed_traces import traces_of

from hicra.testbed.task import Spec

TOY_SHAPE = dict(vocab_size=400, hidden_size=32, intermediate_size=64, layers=1, heads=2, max_positions=160)


@pytest.fixture(scope="session")
def toy_policy_dir(tmp_path_factory) -> Path:
    """A toy Llama and its BPE tokenizer, fine-tuned for a few SFT steps on testbed traces (a normal checkpoint)."""
    from hicra.testbed.policy import PolicyShape, build_model, train_tokenizer
    from hicra.testbed.gates import chat_prompt
    from hicra.testbed.warmstart import WarmStartConfig, sft

    out = tmp_path_factory.mktemp("toy_policy")
    ps, ts = traces_of(Spec("1"), 256)
    shape = PolicyShape(**TOY_SHAPE)
    tokenizer = train_tokenizer([p.text for p in ps] + [t.text for t in ts], shape.vocab_size)
    model = build_model(tokenizer, shape)
    rows = [{"prompt": chat_prompt(tokenizer, p.text), "completion": t.text} for p, t in zip(ps, ts)]
    sft(model, tokenizer, rows, WarmStartConfig(str(out), traces=256, epochs=1), out, shape.max_positions)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
