"""Generated testbed traces for the tests (a module of its own: ``conftest`` names clash between test folders)."""

from __future__ import annotations

import random

from hicra.testbed.task import Spec, problems
from hicra.testbed.traces import TraceStyle, trace


def traces_of(spec: Spec, n: int, seed: int = 0):
    rng = random.Random(seed)
    ps = problems(spec, n, seed)
    return ps, [trace(p, TraceStyle(), rng) for p in ps]
