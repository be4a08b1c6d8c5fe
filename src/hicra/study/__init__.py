"""``hicra study``: several methods × seeds through ``hicra train``, held-out evaluation, statistics, one report."""
