"""Strategic-Gram mining (arXiv 2509.03646, §2.1 and Appendix A): successful solutions → lexicon.

Stages: a. :mod:`~hicra.mining.corpus`, b/c. :mod:`~hicra.mining.ngrams`, d. :mod:`~hicra.mining.cluster`,
e. :mod:`~hicra.mining.annotate`, f. :mod:`~hicra.mining.review`, g. :mod:`~hicra.mining.ablate`; the whole run is
:func:`~hicra.mining.pipeline.mine`. Importing this package stays light (``hicra --help`` imports it): the pipeline
and its numeric dependencies load on first use.
"""

from hicra.mining.config import MineConfig, MiningError

__all__ = ["MineConfig", "MiningError", "MiningResult", "mine", "write_outputs"]


def __getattr__(name: str):
    if name in ("MiningResult", "mine", "write_outputs"):
        from hicra.mining import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'hicra.mining' has no attribute {name!r}")
