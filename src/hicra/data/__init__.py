"""Training data: problems from reasoning-gym, local files or the hub, and their prompts (see :mod:`.problems`).

This folder also holds package data (``lexicons/``, benchmark copies) read with ``importlib.resources``.
"""

from hicra.data.problems import DEFAULT_DATASET, DEFAULT_TEMPLATE, Problems, load_problems, make_prompt, to_hf_dataset

__all__ = ["DEFAULT_DATASET", "DEFAULT_TEMPLATE", "Problems", "load_problems", "make_prompt", "to_hf_dataset"]
