"""The engine-neutral layer shared by the TRL trainer (:mod:`hicra.trl`) and the verl plugin (:mod:`hicra.verl`).

Each adapter only moves tensors in and out of its engine; everything that defines what HICRA does and logs is here,
once, so the engines cannot disagree:

* :mod:`hicra.engine.credit` — planning mask of the exact sampled ids, the credit of the registered method
  (:mod:`hicra.core.registry`), the per-step generator of the random controls, the empty-mask check;
* :mod:`hicra.engine.records` — the ``rollouts.jsonl`` records (schema of :mod:`hicra.records`);
* :mod:`hicra.engine.metrics` — the ``hicra/*`` metrics of a step (and the reward functions' ``step_metrics`` hook);
* :mod:`hicra.engine.runlog` — ``metrics.jsonl`` rows and the resume rule of both logs.
"""
