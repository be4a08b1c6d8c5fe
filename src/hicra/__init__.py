"""hicra: hierarchy-aware reinforcement learning of LLM reasoning (arXiv 2509.03646)."""

__version__ = "0.1.0"
