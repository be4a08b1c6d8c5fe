"""A ``HICRATrainer`` that keeps every generation batch's tensors, in generation order (before TRL shuffles them)."""

from __future__ import annotations

import torch

from hicra.trl.trainer import HICRATrainer


class GenerationRecorder(HICRATrainer):
    """Keeps every generation batch's output tensors in their original row order."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches: list[dict] = []

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        self.batches.append({k: v.clone() for k, v in output.items() if torch.is_tensor(v)})
        return output
