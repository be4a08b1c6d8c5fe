"""Two CPU processes (torchrun, gloo): prompt groups that straddle processes, one writer of the logs."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

from hicra.lexicon import load_lexicon
from hicra.models import load_tokenizer
from hicra.tagging.tagger import PlanningTagger


def test_two_processes_tag_their_own_slices_and_log_once(tiny_model_dir, tiny_lexicon, tmp_path):
    run_dir = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
           "-m", "hicra.cli", "train", "--use-cpu", "--model", str(tiny_model_dir), "--lexicon", str(tiny_lexicon),
           "--dataset", "gym:chain_sum", "--dataset-size", "16", "--num-generations", "4",
           "--per-device-train-batch-size", "2", "--gradient-accumulation-steps", "1",
           "--max-completion-length", "12", "--max-steps", "2",
           "--save-strategy", "no", "--report-to", "none", "--torch-threads", "1", "--seed", "5",
           "--optim", "adamw_torch", "--temperature", "1.0", "--disable-tqdm", "--output-dir", str(run_dir)]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]

    records = [json.loads(x) for x in (run_dir / "rollouts.jsonl").read_text().splitlines()]
    assert len(records) == 2 * 4  # 2 steps × (2 processes × 2 completions), written once by the main process
    groups = collections.Counter(r["group_id"] for r in records)
    assert sorted(groups.values()) == [4, 4]  # each group of 4 spans both processes
    assert all(len({r["prompt_id"] for r in records if r["group_id"] == g}) == 1 for g in groups)
    tagger = PlanningTagger(load_lexicon(tiny_lexicon), load_tokenizer(str(tiny_model_dir)))
    for r in records:
        assert tagger.planning_masks([r["completion_ids"]])[0].astype(int).tolist() == r["planning"]
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert done.stdout.count("hicra train: 2 steps") == 1  # one summary, from the main process
    assert Path(run_dir / "config.yaml").read_text().count("method: hicra") == 1
