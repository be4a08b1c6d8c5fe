"""The strategy testbed: a task family where the choice of strategy (a planning decision) decides success, a tiny
policy warm-started in minutes, and its reward, parser and metrics (see docs/testbed.md)."""
