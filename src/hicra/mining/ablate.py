"""Stage g — sensitivity of the analysis to the lexicon (arXiv 2509.03646, Appendix A robustness check: conclusions
should not hinge on any particular subset of Strategic Grams).

:func:`ablate` writes ``seeds`` variants of a lexicon, each with a random ``drop`` fraction of its grams removed
(rounded to the nearest gram, at least one kept), plus ``ablation.json`` listing every variant and the grams it
dropped. Re-running the analysis with each variant shows how much a result depends on the exact gram list.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from hicra.io import Outputs
from hicra.lexicon import Lexicon
from hicra.mining.config import MiningError


def file_stem(name: str) -> str:
    """A file name made from a lexicon's ``name`` (data, not a path): only letters, digits, ``_``, ``-`` and inner
    dots survive, so no name (``../x``, ``/etc/x``) can place a file outside the output directory."""
    return re.sub(r"[^\w.-]", "_", name, flags=re.ASCII).lstrip(".") or "lexicon"


def ablate(lexicon: Lexicon, drop: float, seeds: int, out_dir: str | Path, first_seed: int = 0,
           lexicon_file: str | Path = "") -> list[Path]:
    """Write the ablated variants of ``lexicon`` (read from ``lexicon_file``, which is never replaced) to
    ``out_dir``, all or none; returns their paths."""
    if not 0.0 <= drop < 1.0:
        raise MiningError(f"--drop must lie in [0, 1), got {drop}")
    if seeds < 1:
        raise MiningError(f"--seeds must be >= 1, got {seeds}")
    n = len(lexicon)
    k = min(round(drop * n), n - 1)
    out_dir = Path(out_dir)
    paths: list[Path] = []
    manifest = {"lexicon": lexicon.name, "source": lexicon.source, "grams": n, "drop": drop, "dropped": k,
                "variants": []}
    with Outputs([("the lexicon", lexicon_file)]) as out:  # every variant and the manifest, or nothing
        for seed in range(first_seed, first_seed + seeds):
            dropped = set(random.Random(seed).sample(range(n), k))
            keep = tuple(g for i, g in enumerate(lexicon.grams) if i not in dropped)
            name = f"{lexicon.name}.drop{round(drop * 100):02d}.seed{seed}"
            variant = Lexicon(name=name, grams=keep, metadata={g: lexicon.metadata[g] for g in keep
                                                                if g in lexicon.metadata},
                              source=f"{lexicon.source or lexicon.name}; ablation: {k} of {n} grams dropped at "
                                     f"random (seed {seed})")
            paths.append(variant.save(out_dir / f"{file_stem(name)}.json", out, "variant"))
            manifest["variants"].append({"file": paths[-1].name, "seed": seed,
                                         "dropped": [lexicon.grams[i] for i in sorted(dropped)]})
        out.write_json(out_dir / "ablation.json", manifest, "ablation.json")
    return paths
