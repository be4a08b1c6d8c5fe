"""Learning-dynamics analysis of RL runs (arXiv 2509.03646, §2.2, §4.3.1, §4.5): per-step metrics by token class,
strategic-gram entropies, Pass@k, fork-token overlap, LLM-judged error types, lexicon sensitivity and an HTML report.

Modules: :mod:`~hicra.analysis.metrics` (pure math), :mod:`~hicra.analysis.dynamics` (streaming per-step
aggregation), :mod:`~hicra.analysis.pipeline` (files in, CSV/JSON out), :mod:`~hicra.analysis.score` (per-token
logprobs/entropies under a checkpoint), :mod:`~hicra.analysis.judge` (error types), :mod:`~hicra.analysis.plots`
and :mod:`~hicra.analysis.report` (figures, HTML), :mod:`~hicra.analysis.synthetic` (made-up runs for tests).
"""
