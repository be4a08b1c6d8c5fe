"""``HICRATrainer``: verl 0.9.1's synchronous v1 PPO trainer with HICRA credit assignment (arXiv 2509.03646, §3).

Registered as ``trainer.v1.trainer_mode=hicra`` through verl's ``register_trainer``; verl imports this module in every
process through the ``verl.plugins`` entry point of the ``hicra`` distribution (``pip install 'hicra[verl]'``). The
mode name only selects the class: the constructor sets it back to ``sync`` before verl's, because verl branches on
that name (replay buffer, refill, checkpoint resume), so everything but the advantage is verl's synchronous trainer.

Startup: the constructor runs on every launch path (``python -m hicra.verl.main`` and verl's own
``python -m verl.trainer.main_ppo ... trainer.v1.trainer_mode=hicra``), so it does all the checks: the refusals of
:func:`hicra.verl.main.check_request` (α, method, entropy_reg without a coefficient, hicra_entropy in bypass mode,
adv_estimator) and loading the lexicon, before Ray workers, validation or the first rollout. Without
``trainer.v1.trainer_mode=hicra`` verl never builds this class: ``algorithm.hicra`` given to verl's own entry point
alone trains plain GRPO (``python -m hicra.verl.main`` refuses that config).

The only override that changes training is :meth:`HICRATrainer._compute_advantage`: verl computes its advantage
(GRPO) and writes it to the TransferQueue; then the exact response ids, the response mask and that advantage are
read back, verl's synthetic padding rows (tag ``is_padding``) are set aside, :func:`hicra.verl.batch.apply_hicra`
applies the method's credit (Â + α|Â| on planning tokens for ``hicra``), and the result replaces ``advantages`` in
the queue before the actor update reads it. The PPO loss, clipping (``clip_ratio_high``) and loss aggregation are
verl's, unchanged. Per step it also appends ``rollouts.jsonl`` (schema of :mod:`hicra.records`) and a
``metrics.jsonl`` row of ``hicra/*`` metrics to ``algorithm.hicra.run_dir`` (default ``trainer.default_local_dir``),
both built by :mod:`hicra.engine`, and logs the metrics through verl's logger.

Deviations: the record's ``logprobs``/``entropies`` are verl's recomputed ``old_log_probs``/``entropy`` (the
sampling policy, up to inference/training numeric mismatch); only the synchronous trainer is extended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import transfer_queue as tq
from omegaconf import open_dict
from tensordict import TensorDict
from verl import DataProto
from verl.trainer.ppo.v1 import PPOTrainerSync, register_trainer
from verl.workers.utils.padding import response_to_nested

from hicra.engine.credit import step_generator
from hicra.engine.runlog import metrics_row, truncate_run_logs
from hicra.lexicon import load_lexicon
from hicra.io import write_yaml
from hicra.records import append_jsonl
from hicra.tagging.tagger import PlanningTagger
from hicra.verl.batch import apply_hicra, rollout_records, step_metrics
from hicra.verl.config import HICRAVerlConfig
from hicra.verl.main import TRAINER_MODE, check_request

_REQUIRED = ["uid", "prompts", "responses", "response_mask", "advantages", "rm_scores"]
_OPTIONAL = ["token_level_rewards", "old_log_probs", "entropy", "reward_model", "data_source"]
_NON_TENSOR = ("uid", "reward_model", "data_source")


def run_dir(config, cfg: HICRAVerlConfig) -> Path:
    return Path(cfg.run_dir or config.trainer.default_local_dir)


@register_trainer(TRAINER_MODE)
class HICRATrainer(PPOTrainerSync):
    """``PPOTrainerSync`` whose advantages follow ``algorithm.hicra`` (see module docstring)."""

    def __init__(self, config):
        self.hicra = check_request(config)  # every refusal, on every launch path, before verl starts anything
        self.lexicon = load_lexicon(self.hicra.lexicon)  # a bad path fails now, not after the first rollout
        with open_dict(config):
            config.trainer.v1.trainer_mode = "sync"  # verl's code paths for the synchronous trainer
        super().__init__(config)
        self.run_dir = run_dir(config, self.hicra)
        self.tagger: PlanningTagger | None = None
        self._started = False

    def _init_tokenizer(self):
        super()._init_tokenizer()
        self.tagger = PlanningTagger(self.lexicon, self.tokenizer)

    def _start_run_dir(self, step: int) -> None:
        """Write config.yaml; on resume drop what was written after the restored checkpoint (``step`` updates)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        doc = {"engine": "verl", "method": self.hicra.method, "model": self.config.actor_rollout_ref.model.path,
               **{f"hicra_{k}": v for k, v in vars(self.hicra).items() if k != "method"}}
        write_yaml(self.run_dir / "config.yaml", doc, name="config.yaml")
        truncate_run_logs(self.run_dir, step)
        self._started = True

    def _fetch(self, batch) -> tuple[DataProto, Any, list[str]]:
        """The step's responses and verl's advantages as a padded ``DataProto`` (+ nested mask, prompt texts)."""
        # fields this run's configuration does not produce (e.g. entropy in bypass mode) are left out by the queue
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=_REQUIRED + _OPTIONAL)
        missing = [f for f in _REQUIRED if f not in data.keys()]
        if missing:
            raise RuntimeError(f"HICRA: verl's TransferQueue has no field(s) {', '.join(missing)} for this step")
        nested_mask = data["response_mask"]
        prompts = [self.tokenizer.decode(p.tolist()) for p in data.pop("prompts").unbind()]
        padded = data.to_padded_tensor()
        non_tensor = {k: np.array(padded.pop(k).tolist(), dtype=object) for k in _NON_TENSOR if k in padded.keys()}
        proto = DataProto(batch=padded, non_tensor_batch=non_tensor)
        proto.batch["token_level_scores"] = proto.batch["rm_scores"]
        return proto, nested_mask, prompts

    def _compute_advantage(self, batch, metrics: dict):
        batch = super()._compute_advantage(batch, metrics)  # verl's GRPO Â, written to the queue
        step = self.global_steps - 1  # optimizer updates before this batch was sampled
        if not self._started:
            self._start_run_dir(step)
        data, nested_mask, prompts = self._fetch(batch)
        tags = batch.tags or [{}] * len(batch)  # verl tags every row; padding rows carry is_padding=True
        real = [i for i, tag in enumerate(tags) if not (tag or {}).get("is_padding", False)]
        kept, info = apply_hicra(data.select_idxs(real), self.tagger, self.hicra,
                                 step_generator(self.hicra.seed, step))
        advantages = data.batch["advantages"].clone()
        advantages[torch.as_tensor(real, dtype=torch.long)] = kept.batch["advantages"].to(advantages.dtype)
        update = TensorDict({"advantages": response_to_nested(advantages, nested_mask)}, batch_size=len(batch))
        batch = tq.kv_batch_put(keys=batch.keys, partition_id=batch.partition_id, fields=update)
        records = rollout_records(kept, info, self.tokenizer, step, [prompts[i] for i in real])
        values = step_metrics(kept, info, records)  # verl's reward functions live in its reward workers
        metrics.update(values)
        append_jsonl(self.run_dir / "rollouts.jsonl", records)
        append_jsonl(self.run_dir / "metrics.jsonl", [metrics_row(self.global_steps, values)])
        return batch
