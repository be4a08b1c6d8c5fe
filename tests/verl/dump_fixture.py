"""The verl rollout dump committed in tests/data/verl_dump: two training steps written by verl's own dump function.

``python tests/verl/dump_fixture.py DIR`` (in .venv-verl) regenerates it; ``test_dump_fixture`` checks that verl still
writes it byte for byte, and the main suite's ``tests/test_importers.py`` reads it through ``hicra analyze/report``.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROMPTS = {
    "p1": ("<|im_start|>user\nWhat is 12 + 30? Put the final answer in \\boxed{}.<|im_end|>\n<|im_start|>assistant\n",
           "42"),
    "p2": ("<|im_start|>user\nHow many sides do 3 triangles have in total?<|im_end|>\n<|im_start|>assistant\n", "9"),
}
# (prompt, response, score) per step: SGs of the paper's lexicon ("but wait", "let me check", "alternatively", ...)
STEPS = {
    1: [("p1", "12 + 30 = 42. But wait, let me check: 30 + 12 = 42. The answer is \\boxed{42}.", 1.0),
        ("p1", "12 + 30 = 32, so the answer is \\boxed{32}.", 0.0),
        ("p1", "First, we add the tens: 10 + 30 = 40. Then 40 + 2 = 42. \\boxed{42}", 1.0),
        ("p1", "The sum is 41. \\boxed{41}", 0.0),
        ("p2", "Each triangle has 3 sides, so 3 * 3 = 9. \\boxed{9}", 1.0),
        ("p2", "A triangle has 3 sides. Alternatively, count them one by one: 3, 6, 9. \\boxed{9}", 1.0),
        ("p2", "3 + 3 = 6 sides. \\boxed{6}", 0.0),
        ("p2", "Hmm, three triangles. Let me think: 3 times 4 is 12. \\boxed{12}", 0.0)],
    2: [("p1", "We need to add 12 and 30. But wait, 12 + 30 = 42. Let me check again: yes. \\boxed{42}", 1.0),
        ("p1", "12 + 30 = 42. \\boxed{42}", 1.0),
        ("p1", "Alternatively, 30 + 10 + 2 = 42. However, let me verify: 42. \\boxed{42}", 1.0),
        ("p1", "12 + 30 = 43. \\boxed{43}", 0.0),
        ("p2", "Let me check: each triangle has 3 sides, and 3 * 3 = 9. \\boxed{9}", 1.0),
        ("p2", "But wait, a triangle has 3 sides, so the total is 9. \\boxed{9}", 1.0),
        ("p2", "Three triangles with 3 sides each: 9. \\boxed{9}", 1.0),
        ("p2", "3 + 3 + 3 = 8. \\boxed{8}", 0.0)],
}


def write_dump(out: Path) -> list[Path]:
    """Write the dump with verl 0.9.1's ``PPOTrainer._write_generations`` (what ``trainer.rollout_data_dir`` does)."""
    from verl.trainer.ppo.v1.trainer_base import PPOTrainer

    for step, rows in STEPS.items():
        inputs = [PROMPTS[p][0] for p, _, _ in rows]
        gts = [PROMPTS[p][1] for p, _, _ in rows]
        uids = [f"{p}_{i % 4}_0" for i, (p, _, _) in enumerate(rows)]
        PPOTrainer._write_generations(inputs, [r for _, r, _ in rows], gts, [s for _, _, s in rows],
                                      {"uid": uids, "acc": [s > 0 for _, _, s in rows]}, str(out), step)
    return sorted(out.glob("*.jsonl"))


if __name__ == "__main__":
    write_dump(Path(sys.argv[1]))
