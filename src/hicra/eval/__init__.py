"""Evaluation of arXiv 2509.03646 (Table 1, §4.1): benchmarks, prompting, generation, grading, Pass@1 tables.

``hicra.eval.grade`` / ``grade_many`` / ``extract_boxed`` are importable from here without loading torch.
"""

from hicra.eval.grading import extract_boxed, grade, grade_many

__all__ = ["extract_boxed", "grade", "grade_many"]
