"""Planning-token tagging: Strategic-Gram occurrences → per-token planning/execution masks (paper §2.1)."""

from hicra.tagging.matcher import GramMatcher, Occurrence, normalize_text
from hicra.tagging.tagger import PlanningTagger, TaggedText

__all__ = ["GramMatcher", "Occurrence", "PlanningTagger", "TaggedText", "normalize_text"]
