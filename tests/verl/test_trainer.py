"""HICRATrainer's advantage step end to end on CPU: real verl trainer code, a real TransferQueue on a local Ray."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_batch import REWARDS, TEXTS, UIDS, reference
from test_plugin import HICRA, verl_config

from hicra.core import hicra_advantages
from hicra.lexicon import load_lexicon
from hicra.records import read_rollouts
from hicra.tagging.tagger import PlanningTagger


def put_step(tq, tokenizer, texts=TEXTS, rewards=REWARDS, uids=UIDS, extra=None, prefix="s"):
    """One step's samples as verl's agent loop stores them (verl's list_of_dict_to_tensordict, keys uid_session_0);
    ``extra(i, n)`` adds per-sample fields (e.g. old_log_probs, entropy) of a response of n tokens."""
    from verl.utils.tensordict_utils import list_of_dict_to_tensordict

    samples, keys = [], []
    for i, (text, reward, uid) in enumerate(zip(texts, rewards, uids)):
        ids = torch.tensor(tokenizer(text, add_special_tokens=False)["input_ids"])
        scores = torch.zeros(len(ids))
        scores[-1] = reward
        prompt = torch.tensor(tokenizer(f"<|im_start|>user\nproblem {uid}<|im_end|>\n")["input_ids"])
        sample = {"prompts": prompt, "responses": ids, "response_mask": torch.ones(len(ids), dtype=torch.int64),
                  "rm_scores": scores, "uid": f"{prefix}{uid}", "data_source": "toy",
                  "reward_model": {"ground_truth": "42"}}
        sample.update(extra(i, len(ids)) if extra else {})
        samples.append(sample)
        keys.append(f"{prefix}{uid}_{i}_0")
    return tq.kv_batch_put(keys=keys, partition_id="train", fields=list_of_dict_to_tensordict(samples),
                           tags=[{"global_steps": 1}] * len(keys))


def make_trainer(tmp_path, overrides=()):
    """verl's trainer for ``trainer.v1.trainer_mode=hicra`` on SmolLM2's tokenizer (verl's own tokenizer setup)."""
    from hicra.models import resolve_model_path
    from hicra.verl.trainer import HICRATrainer

    config = verl_config(HICRA + [f"+algorithm.hicra.run_dir={tmp_path}", "actor_rollout_ref.rollout.n=4",
                                  f"actor_rollout_ref.model.path={resolve_model_path('smollm2', False)}",
                                  *overrides])
    trainer = HICRATrainer(config)
    trainer._init_tokenizer()
    trainer.global_steps = 1
    return trainer


def test_advantage_step_through_the_queue(queue, tmp_path):
    from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer, ReplayBufferAsync

    trainer = make_trainer(tmp_path, ["+algorithm.hicra.alpha=0.2"])
    assert trainer.trainer_mode == "sync" and type(trainer.replay_buffer) is ReplayBuffer
    assert not isinstance(trainer.replay_buffer, ReplayBufferAsync)
    tokenizer = trainer.tokenizer
    meta = put_step(queue, tokenizer)
    metrics: dict = {}
    trainer._compute_advantage(meta, metrics)

    out = queue.kv_batch_get(keys=meta.keys, partition_id="train", select_fields=["advantages", "response_mask"])
    out = out.to_padded_tensor()
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in TEXTS]
    mask = out["response_mask"]
    seq, planning, _ = reference(PlanningTagger(load_lexicon("paper"), tokenizer), ids, UIDS, REWARDS, mask)
    torch.testing.assert_close(out["advantages"], hicra_advantages(seq, planning, 0.2) * mask, atol=1e-5, rtol=1e-5)
    assert planning.any() and 0 < metrics["hicra/planning_ratio"] < 1

    records = read_rollouts(tmp_path)
    assert len(records) == len(TEXTS) and {r["step"] for r in records} == {0}
    assert [r["completion_ids"] for r in records] == ids and records[0]["answer"] == "42"
    assert np.isclose([r["reward"] for r in records], REWARDS).all()
    assert (tmp_path / "metrics.jsonl").is_file() and "method: hicra" in (tmp_path / "config.yaml").read_text()


def test_task_runner_actor_has_the_plugin(queue):
    """The launcher's Ray task runner (verl's TaskRunnerV1 + explicit import) sees trainer_mode=hicra in its process."""
    import os

    import ray

    from hicra.verl.main import task_runner_class

    runner = task_runner_class().remote()

    def probe(actor):
        from verl.trainer.ppo.v1 import get_trainer_cls

        return os.getpid(), get_trainer_cls("hicra").__module__, [c.__name__ for c in type(actor).__mro__]

    pid, module, bases = ray.get(runner.__ray_call__.remote(probe))
    assert pid != os.getpid() and module == "hicra.verl.trainer" and "TaskRunnerV1" in bases
    ray.kill(runner)
