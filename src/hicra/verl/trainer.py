"""``HICRATrainer``: verl 0.9.1's synchronous v1 PPO trainer with HICRA credit assignment (arXiv 2509.03646, §3).

Registered as ``trainer.v1.trainer_mode=hicra`` through verl's ``register_trainer``; verl imports this module in every
process through the ``verl.plugins`` entry point of the ``hicra`` distribution (``pip install 'hicra[verl]'``). The
mode name only selects the class: the constructor sets it back to ``sync`` before verl's, because verl branches on
that name (replay buffer, refill, checkpoint resume), so everything but the advantage is verl's synchronous trainer.

The only override that changes training is :meth:`HICRATrainer._compute_advantage`: verl computes its advantage
(GRPO) and writes it to the TransferQueue; then the exact response ids, the response mask and that advantage are
read back, :func:`hicra.verl.batch.apply_hicra` turns Â into Â + α|Â| on the credited tokens, and the result
replaces ``advantages`` in the queue before the actor update reads it. The PPO loss, clipping (``clip_ratio_high``) and
loss aggregation are verl's, unchanged. Per step it also appends ``rollouts.jsonl`` (schema of
:mod:`hicra.records`) and a ``metrics.jsonl`` row of ``hicra/*`` metrics to ``algorithm.hicra.run_dir``
(default ``trainer.default_local_dir``), and logs the metrics through verl's logger.

Deviations: the record's ``logprobs``/``entropies`` are verl's recomputed ``old_log_probs``/``entropy`` (the
sampling policy, up to inference/training numeric mismatch); only the synchronous trainer is extended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import transfer_queue as tq
from omegaconf import OmegaConf, open_dict
from tensordict import TensorDict
from verl import DataProto
from verl.trainer.ppo.v1 import PPOTrainerSync, register_trainer
from verl.workers.utils.padding import response_to_nested

from hicra.lexicon import load_lexicon
from hicra.io import repair_tail, write_yaml
from hicra.records import append_jsonl, read_jsonl, write_jsonl
from hicra.tagging.tagger import PlanningTagger
from hicra.verl.batch import apply_hicra, rollout_records, step_metrics
from hicra.verl.config import HICRAVerlConfig

TRAINER_MODE = "hicra"
_REQUIRED = ["uid", "prompts", "responses", "response_mask", "advantages", "rm_scores"]
_OPTIONAL = ["token_level_rewards", "old_log_probs", "entropy", "reward_model", "data_source"]
_NON_TENSOR = ("uid", "reward_model", "data_source")


def hicra_config(config) -> HICRAVerlConfig:
    """``algorithm.hicra`` of a verl config (defaults when absent), validated."""
    node = config.algorithm.get("hicra")
    return HICRAVerlConfig.from_mapping(OmegaConf.to_container(node, resolve=True) if node is not None else None)


def run_dir(config, cfg: HICRAVerlConfig) -> Path:
    return Path(cfg.run_dir or config.trainer.default_local_dir)


@register_trainer(TRAINER_MODE)
class HICRATrainer(PPOTrainerSync):
    """``PPOTrainerSync`` whose advantages follow ``algorithm.hicra`` (see module docstring)."""

    def __init__(self, config):
        self.hicra = hicra_config(config)
        with open_dict(config):
            config.trainer.v1.trainer_mode = "sync"  # verl's code paths for the synchronous trainer
        super().__init__(config)
        if config.algorithm.adv_estimator != "grpo":
            raise ValueError(f"trainer.v1.trainer_mode=hicra needs algorithm.adv_estimator=grpo, got "
                             f"{config.algorithm.adv_estimator!r}")
        self.run_dir = run_dir(config, self.hicra)
        self.tagger: PlanningTagger | None = None
        self._started = False

    def _start_run_dir(self, step: int) -> None:
        """Write config.yaml; on resume drop records of steps the restored checkpoint has not trained on."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        doc = {"engine": "verl", "method": self.hicra.method, "model": self.config.actor_rollout_ref.model.path,
               **{f"hicra_{k}": v for k, v in vars(self.hicra).items() if k != "method"}}
        write_yaml(self.run_dir / "config.yaml", doc, name="config.yaml")
        for name in ("rollouts.jsonl", "metrics.jsonl"):
            path = self.run_dir / name
            if path.is_file():
                repair_tail(path)
                write_jsonl(path, [r for r in read_jsonl(path) if int(r.get("step", 0)) < step])
        self.tagger = PlanningTagger(load_lexicon(self.hicra.lexicon), self.tokenizer)
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
        data, info = apply_hicra(data, self.tagger, self.hicra)
        update = TensorDict({"advantages": response_to_nested(data.batch["advantages"], nested_mask)},
                            batch_size=len(batch))
        batch = tq.kv_batch_put(keys=batch.keys, partition_id=batch.partition_id, fields=update)
        step_values = step_metrics(data, info)
        metrics.update(step_values)
        append_jsonl(self.run_dir / "rollouts.jsonl", rollout_records(data, info, self.tokenizer, step, prompts))
        append_jsonl(self.run_dir / "metrics.jsonl", [{"step": step, **_json_floats(step_values)}])
        return batch


def _json_floats(values: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if v != v else v) for k, v in values.items()}  # NaN → null
