"""Regression tests of the verl plugin's defects: each fails on the earlier code and passes now."""

from __future__ import annotations

import json

import pytest
from test_batch import REWARDS, TEXTS, UIDS, make_batch, tagger, tokenizer  # noqa: F401 (fixtures)
from test_plugin import HICRA, verl_config
from test_trainer import make_trainer, put_step

from hicra.config import ConfigError
from hicra.records import read_jsonl
from hicra.verl.batch import apply_hicra
from hicra.verl.config import HICRAVerlConfig


def test_padding_rows_stay_out_of_records_and_metrics(queue, tmp_path):
    """verl pads a batch with synthetic is_padding rows (its own upsample function): they are not rollouts."""
    from verl.trainer.ppo.padding_utils import upsample_batch_to_divisible_size

    trainer = make_trainer(tmp_path)
    meta = upsample_batch_to_divisible_size(put_step(queue, trainer.tokenizer, prefix="rows"), 5,
                                            trainer.tokenizer.eos_token_id)
    assert len(meta) == 15 and sum(bool(t.get("is_padding")) for t in meta.tags) == 3
    metrics: dict = {}
    trainer._compute_advantage(meta, metrics)
    records = list(read_jsonl(tmp_path / "rollouts.jsonl"))
    assert len(records) == len(TEXTS) and not any(r["group_id"].startswith("0-pad") for r in records)
    assert metrics["hicra/accuracy"] == pytest.approx(sum(r >= 0.5 for r in REWARDS) / len(REWARDS))
    assert metrics["hicra/length"] == pytest.approx(sum(len(r["completion_ids"]) for r in records) / len(TEXTS))
    out = queue.kv_batch_get(keys=meta.keys, partition_id="train", select_fields=["advantages"])
    assert out.to_padded_tensor()["advantages"][-3:].abs().sum() == 0  # padding rows keep their zero advantage


@pytest.mark.parametrize("alpha", ["1.0", "1.5"])
def test_alpha_of_one_or_more_is_refused_at_startup(tmp_path, alpha):
    with pytest.raises(ConfigError, match=r"algorithm.hicra.alpha must be in \[0, 1\)"):
        HICRAVerlConfig(alpha=float(alpha))
    with pytest.raises(ConfigError, match="alpha must be in"):
        make_trainer(tmp_path, [f"+algorithm.hicra.alpha={alpha}"])


def test_lexicon_is_loaded_in_the_constructor(tmp_path):
    with pytest.raises(Exception, match="no-such-lexicon"):
        make_trainer(tmp_path, [f"+algorithm.hicra.lexicon={tmp_path}/no-such-lexicon.txt"])


@pytest.mark.parametrize("message, overrides", [
    ("entropy_coeff > 0", ["+algorithm.hicra.method=entropy_reg"]),
    ("bypass_mode=true skips", ["+algorithm.hicra.method=hicra_entropy",
                                "algorithm.rollout_correction.bypass_mode=true"]),
    ("'hircra'; valid", ["+algorithm.hicra.method=hircra"]),
])
def test_launcher_checks_run_in_the_trainer_constructor(tmp_path, message, overrides):
    """verl's own `main_ppo ... trainer.v1.trainer_mode=hicra` builds the trainer without hicra's launcher."""
    from hicra.verl.trainer import HICRATrainer

    config = verl_config([o for o in HICRA if "method" not in o] + overrides)
    with pytest.raises(ConfigError, match=message):
        HICRATrainer(config)


def test_resume_cuts_a_torn_line_and_keeps_the_steps_before_the_checkpoint(queue, tmp_path):
    """Restored after 2 updates: rollouts of steps 0-1 and metrics rows of steps 1-2 stay, the rest goes."""
    rollouts, metrics = tmp_path / "rollouts.jsonl", tmp_path / "metrics.jsonl"
    rollouts.write_text("".join(json.dumps({"step": s, "n": k}) + "\n" for s in range(4) for k in range(2))
                        + '{"step": 4, "n"', encoding="utf-8")
    metrics.write_text("".join(json.dumps({"step": s}) + "\n" for s in range(1, 5)) + '{"st', encoding="utf-8")
    trainer = make_trainer(tmp_path)
    trainer.global_steps = 3  # verl's step counter after restoring global_step_2
    trainer._compute_advantage(put_step(queue, trainer.tokenizer, prefix="resume"), {})
    steps = [r["step"] for r in read_jsonl(rollouts)]
    assert steps == [0, 0, 1, 1] + [2] * len(TEXTS)
    assert [r["step"] for r in read_jsonl(metrics)] == [1, 2, 3]  # metrics rows count updates done, as TRL's


def test_empty_mask_check_searches_only_optimised_tokens(tokenizer, tagger):
    """A step whose only Strategic Gram is in a tool output is valid, whatever the method."""
    text = "12 + 30 = 42. But wait, 42."
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    start = len(tokenizer("12 + 30 = 42.", add_special_tokens=False)["input_ids"])
    end = len(tokenizer("12 + 30 = 42. But wait", add_special_tokens=False)["input_ids"])
    for method in ("hicra", "grpo"):
        batch, _ = make_batch(tokenizer, texts=[text, "12 + 30 = 41."], rewards=[1.0, 0.0], uids=["a", "a"],
                              gap=(0, start, end))
        out, _ = apply_hicra(batch, tagger, HICRAVerlConfig(method=method, alpha=0.2))
        assert not out.batch["planning_mask"].any()


def test_sampled_ids_beyond_the_tokenizer_are_execution_tokens(tokenizer, tagger):
    """A model vocabulary larger than the tokenizer's (Qwen3: 151,936 vs 151,669) can sample ids without text."""
    batch, _ = make_batch(tokenizer, texts=TEXTS[:4], rewards=REWARDS[:4], uids=UIDS[:4])
    batch.batch["responses"][0, 1] = len(tokenizer) + 100
    out, info = apply_hicra(batch, tagger, HICRAVerlConfig(alpha=0.2))
    assert not out.batch["planning_mask"][0, 1] and out.batch["planning_mask"].any()
    assert info.ids[0][1] == len(tokenizer) + 100
