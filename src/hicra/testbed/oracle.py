"""``planning_source: oracle``: the planning mask from the testbed parser's ground-truth spans instead of the lexicon.

:class:`OracleTagger` offers :meth:`~hicra.tagging.tagger.PlanningTagger.tag_ids` (and ``tag_texts``,
``planning_masks``) with the same token rule (§2.1 of arXiv 2509.03646: a token is planning iff one of its
non-whitespace characters lies in a span); only the spans differ: those of
:func:`hicra.testbed.parser.planning_spans`, not Strategic-Gram matches. The trainer takes it as its ``tagger``.
"""

from __future__ import annotations

import numpy as np

from hicra.lexicon import Lexicon
from hicra.tagging.matcher import BATCH_SEPARATOR, Matches, Occurrence
from hicra.tagging.tagger import PlanningTagger, tokens_covered
from hicra.testbed.parser import planning_spans
from hicra.testbed.task import BACKTRACK_PHRASE, DISTINCT_PHRASES, SHARED_PHRASE

_NO_MATCHES = np.zeros(0, dtype=np.int64)


class OracleTagger(PlanningTagger):
    """A :class:`PlanningTagger` whose spans are the testbed's ground-truth planning spans."""

    def __init__(self, tokenizer, variant: str = "distinct"):
        grams = (*DISTINCT_PHRASES.values(), SHARED_PHRASE, BACKTRACK_PHRASE)  # unused by the matching below
        super().__init__(Lexicon("testbed-oracle", grams), tokenizer)
        self.variant = variant

    def _label(self, batch) -> tuple[Matches, np.ndarray]:
        """No lexicon matches; the planning mask of the parser's spans, text by text in the joined batch."""
        starts, ends, offset = [], [], 0
        for text in batch.joined.split(BATCH_SEPARATOR):
            for a, b in planning_spans(text, self.variant):
                starts.append(offset + a)
                ends.append(offset + b)
            offset += len(text) + 1
        solid = ~np.fromiter(map(str.isspace, batch.joined), dtype=bool, count=len(batch.joined))
        planning = (tokens_covered(np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64), solid,
                                   batch.offsets) if starts and len(batch.offsets)
                    else np.zeros(len(batch.offsets), dtype=bool))
        return Matches(_NO_MATCHES, _NO_MATCHES, _NO_MATCHES, ~solid), planning

    def _split(self, batch, matches: Matches, planning: np.ndarray):
        tagged = super()._split(batch, matches, planning)
        for t in tagged:
            t.spans = [Occurrence(a, b, t.text[a:b].lower()) for a, b in planning_spans(t.text, self.variant)]
        return tagged


def oracle_tagger(dataset: str, tokenizer) -> OracleTagger:
    """The oracle tagger of a ``testbed:...`` dataset spec; any other dataset is an error."""
    from hicra.testbed.task import is_testbed_spec, parse_spec

    if not is_testbed_spec(dataset):
        raise ValueError(f"planning_source 'oracle' needs a testbed dataset (testbed:LEVEL), got {dataset!r}")
    return OracleTagger(tokenizer, parse_spec(dataset).variant)
