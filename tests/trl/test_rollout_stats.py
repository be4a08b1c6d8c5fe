"""The rollout log without an extra forward: its log-probs/entropies equal a separate sampling-policy pass, group ids
are unique per prompt group across the run, and the trainer's semantic entropy is the one of ``hicra analyze``."""

from __future__ import annotations

import collections
import json
import math

import pytest
import torch

from hicra.analysis.options import AnalysisConfig
from hicra.analysis.pipeline import analyze_run
from hicra.lexicon import load_lexicon
from hicra.records import read_jsonl
from hicra.tagging.tagger import PlanningTagger
from hicra.trl.config import HICRAConfig
from hicra.engine.credit import tag_rows
from hicra.engine.metrics import sg_metrics
from hicra.trl.rollout_log import ROW_KEY
from hicra.trl.run import build_trainer
from recording import GenerationRecorder


def _records(trainer) -> list[dict]:
    return list(read_jsonl(trainer.run_dir / "rollouts.jsonl"))


@pytest.mark.parametrize("extra", [
    dict(gradient_accumulation_steps=2, steps_per_generation=2),  # loss pass, batch shuffled and split in two
    dict(num_iterations=2),  # TRL runs an old-policy pass
], ids=["loss-pass", "old-policy-pass"])
def test_logged_token_stats_equal_a_separate_sampling_policy_pass(tiny_values, extra):
    values = dict(tiny_values, learning_rate=0.0, max_steps=2, **extra)  # lr 0: the policy stays the sampling one
    trainer = build_trainer(HICRAConfig(**values), trainer_cls=GenerationRecorder)
    trainer.train()
    records = _records(trainer)
    assert len(records) == sum(len(b["completion_ids"]) for b in trainer.batches) > 0
    if "steps_per_generation" in extra:  # the row key rode along through TRL's shuffle
        assert all(ROW_KEY in b for b in trainer.batches)
    rows = iter(records)
    checked = 0
    for batch in trainer.batches:
        ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], 1)
        attention = torch.cat([batch["prompt_mask"], torch.ones_like(batch["completion_mask"])], 1)
        with torch.no_grad():  # the previous method: one more forward of the whole generation batch
            logps, ent, _ = trainer._get_per_token_logps_and_entropies(
                trainer.model, ids, attention, batch["completion_ids"].shape[1], batch_size=4, compute_entropy=True)
        for i in range(ids.shape[0]):
            rec = next(rows)
            n = len(rec["completion_ids"])
            assert rec["completion_ids"] == batch["completion_ids"][i, :n].tolist()
            assert rec["logprobs"] == pytest.approx(logps[i, :n].tolist(), abs=2e-5)
            assert rec["entropies"] == pytest.approx(ent[i, :n].tolist(), abs=2e-5)
            checked += n
    assert checked > 0
    metrics = [json.loads(x) for x in (trainer.run_dir / "metrics.jsonl").read_text().splitlines()]
    logged = [m for m in metrics if "hicra/accuracy" in m]  # steps that trained on a new generation batch
    assert logged and all(isinstance(m["hicra/nll_execution"], float) for m in logged)


def test_group_ids_are_unique_per_prompt_group_when_a_step_spans_generation_batches(tiny_values):
    # two generation batches (2 prompts × 2 samples each) per optimizer step
    values = dict(tiny_values, gradient_accumulation_steps=2, steps_per_generation=1, max_steps=2)
    trainer = build_trainer(HICRAConfig(**values))
    trainer.train()
    records = _records(trainer)
    assert len(records) == 2 * 2 * 4
    groups = collections.defaultdict(list)
    for r in records:
        groups[r["group_id"]].append(r)
    assert len(groups) == len(records) // 2
    assert all(len(g) == 2 and len({r["prompt_id"] for r in g}) == 1 for g in groups.values())


def test_trainer_and_analyze_count_strategic_grams_alike(tiny_model_dir, tmp_path):
    """Nested occurrences ("wait" inside "but wait") count once, as the outermost SG; no SG at all is undefined."""
    lexicon = tmp_path / "nested.txt"
    lexicon.write_text("but wait\nwait\nlet me\nso\n", encoding="utf-8")
    from hicra.models import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_model_dir))
    tagger = PlanningTagger(load_lexicon(str(lexicon)), tokenizer)
    steps = [["But wait, let me check. So 7.", "wait, so so 3", "but wait but wait"], ["no grams here"]]
    rollouts = tmp_path / "rollouts.jsonl"
    expected = []
    with rollouts.open("w", encoding="utf-8") as f:
        for step, texts in enumerate(steps):
            ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
            grams = [g for row in tag_rows(tagger, ids).grams for g in row]
            expected.append(sg_metrics(grams))  # what the trainer logs
            for k, (text, tok) in enumerate(zip(texts, ids)):
                f.write(json.dumps({"step": step, "prompt_id": f"p{k}", "completion": text, "completion_ids": tok,
                                    "reward": 0.0}) + "\n")
    rows = analyze_run(rollouts, AnalysisConfig(lexicon=str(lexicon), tokenizer=str(tiny_model_dir))).rows
    assert expected[0]["hicra/sg_count"] == rows[0]["sg_occurrences"] == 8  # 3 + 3 + 2 outermost occurrences
    assert expected[0]["hicra/semantic_entropy"] == pytest.approx(rows[0]["semantic_entropy"])
    p = torch.tensor([3, 1, 3, 1]) / 8  # but wait ×3, let me, so ×3, a lone wait (the nested "wait"s do not count)
    assert rows[0]["semantic_entropy"] == pytest.approx(float(-(p * p.log()).sum()), abs=1e-6)
    assert math.isnan(expected[1]["hicra/semantic_entropy"]) and math.isnan(rows[1]["semantic_entropy"])


def test_a_training_run_logs_the_semantic_entropy_that_analyze_finds(tiny_values, tiny_model_dir, tiny_lexicon):
    trainer = build_trainer(HICRAConfig(**dict(tiny_values, max_steps=2)))
    trainer.train()
    metrics = [json.loads(x) for x in (trainer.run_dir / "metrics.jsonl").read_text().splitlines()]
    config = AnalysisConfig(lexicon=str(tiny_lexicon), tokenizer=str(tiny_model_dir))
    rows = analyze_run(trainer.run_dir / "rollouts.jsonl", config).rows
    assert [r["step"] for r in rows] == [m["step"] - 1 for m in metrics] == [0, 1]
    for m, r in zip(metrics, rows):
        assert m["hicra/sg_count"] == r["sg_occurrences"] > 0
        assert m["hicra/semantic_entropy"] == pytest.approx(r["semantic_entropy"])
