import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from hicra.cli import main

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def report_dir(synthetic_runs, tmp_path_factory):
    """`hicra report` on two synthetic runs, one of them with judged error types, with a lexicon ablation."""
    judged = synthetic_runs[0] / "judgments.jsonl"
    judged.write_text("".join(json.dumps({"key": f"k{i}", "step": i % 5, "judge_model": "j", "taxonomy": "t",
                                          "choice": "A" if i % 3 else "B", "cause": "x",
                                          "group": "Planning & Strategy" if i % 3 else "Others"}) + "\n"
                              for i in range(20)), encoding="utf-8")
    out = tmp_path_factory.mktemp("report")
    assert main(["report", *map(str, synthetic_runs), "--output", str(out), "--lexicon-ablation", "0.3",
                 "--seeds", "3", "--tokenizer", "smollm2"]) == 0
    return out


def test_report_files_and_numbers(report_dir, synthetic_runs):
    for name in ("index.html", "report.json", "fork_tokens.csv", "error_types.csv", "figures/overlay.png",
                 "figures/fork_tokens.png", "figures/error_types.png", "runs/run_a/metrics.csv",
                 "runs/run_b/ablation_band.csv", "runs/run_a/sg_counts.csv", "runs/run_a/error_types.csv"):
        assert (report_dir / name).is_file(), name
    doc = json.loads((report_dir / "report.json").read_text())
    assert [r["label"] for r in doc["runs"]] == ["hicra", "grpo"]  # methods from config.yaml
    assert len(doc["runs"][0]["metrics"]) == 5 and doc["runs"][0]["metrics"][0]["rel_ppl_execution"] == 1.0
    assert {r["run"] for r in doc["error_types"]} == {"hicra"}
    page = (report_dir / "index.html").read_text()
    assert page.count("data:image/png;base64,") >= 5  # overlay, fork bars, errors, two grids
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # self-contained: nothing loaded from outside
    assert page.count('<div class="trace">') == 4 and '<span class="plan">' in page


def test_report_renders_in_headless_chromium(report_dir, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (`make setup` does)")
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1200,2000",
               (report_dir / "index.html").as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, env={**os.environ, "HOME": profile})
    assert shot.is_file(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-500:]}"
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2000, 1200)
    rgb = (pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colors = np.unique(rgb, axis=0)
    assert len(colors) > 200, f"the screenshot looks blank: only {len(colors)} distinct colors"
    assert (rgb.min(axis=1) < 128).mean() > 0.005  # some dark pixels: text and lines were drawn


def test_labels_are_text_in_figures_and_page(synthetic_runs, tmp_path):
    """A run label with "$" (mathtext) and "<" (HTML) is drawn and shown as written."""
    import shutil

    import yaml

    run = tmp_path / "run_$x<b>"
    shutil.copytree(synthetic_runs[1], run)
    cfg = yaml.safe_load((run / "config.yaml").read_text()) if (run / "config.yaml").is_file() else {}
    (run / "config.yaml").write_text(yaml.safe_dump({**(cfg or {}), "method": "grpo $x^$ & <i>"}), encoding="utf-8")
    out = tmp_path / "report"
    assert main(["report", str(run), str(synthetic_runs[0]), "--output", str(out), "--tokenizer", "smollm2",
                 "--title", "costs in $ <b>"]) == 0
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "grpo $x^$ &amp; &lt;i&gt;" in page and "<i>" not in page and "costs in $ &lt;b&gt;" in page
