"""``hicra train`` options: help text, precedence, YAML round trip, shipped configs, and the real smoke run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hicra.config import ConfigError, load_yaml
from hicra.records import read_rollouts
from hicra.trl.cli import build_parser, parse
from hicra.trl.config import HICRA_FIELDS, HICRAConfig
from hicra.trl.run import config_document

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
RECORD_KEYS = {"schema", "step", "prompt_id", "group_id", "prompt", "completion", "completion_ids", "logprobs",
               "entropies", "planning", "reward", "correct", "answer", "task"}


def test_help_documents_every_hicra_field_and_the_vllm_flags():
    text = build_parser().format_help()
    for name in HICRA_FIELDS:
        assert "--" + name.replace("_", "-") in text
    for phrase in ("Â + α|Â|", "--use-vllm", "--vllm-mode", "--epsilon-high", "clip-higher", "--resume", "--preset"):
        assert phrase in text
    assert "--per-device-eval-batch-size" not in text  # the long tail is behind --help-all
    assert "--per-device-eval-batch-size" in build_parser(show_all=True).format_help()


def test_precedence_preset_then_yaml_then_flags(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("hicra_alpha: 0.3\nmax_steps: 7\nmethod: grpo\n")
    _, values = parse(["--preset", "smoke", "--config", str(cfg), "--max-steps", "9", "--no-log-token-stats",
                       "--gym-options", '{"chain_sum": {"max_terms": 3}}', "--output-dir", str(tmp_path / "r")])
    assert values["dataset_size"] == 8 and values["hicra_alpha"] == 0.3 and values["method"] == "grpo"
    assert values["max_steps"] == 9 and values["log_token_stats"] is False
    assert values["gym_options"] == {"chain_sum": {"max_terms": 3}}
    config = HICRAConfig(**values)
    assert config.max_steps == 9 and config.epsilon_high == 0.28


def test_bad_options_fail_with_the_field_name(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("hicra_alfa: 0.3\n")
    with pytest.raises(ConfigError, match="hicra_alfa"):
        parse(["--config", str(cfg)])
    with pytest.raises(ValueError, match="valid: grpo, hicra"):
        HICRAConfig(output_dir=str(tmp_path), method="hicra2")
    with pytest.raises(ValueError, match="save_steps"):
        HICRAConfig(output_dir=str(tmp_path), num_iterations=2, save_steps=3)


def test_config_yaml_round_trips(tmp_path):
    _, values = parse(["--method", "hicra_entropy", "--entropy-top-q", "0.2", "--seed", "3",
                       "--output-dir", str(tmp_path / "r")])
    config = HICRAConfig(**values)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config_document(config, values)))
    again = HICRAConfig(**load_yaml(path, HICRAConfig))
    for name in HICRA_FIELDS + ("seed", "epsilon_high", "learning_rate", "max_steps"):
        assert getattr(again, name) == getattr(config, name), name


@pytest.mark.parametrize("name", ["smollm2_hicra.yaml", "smollm2_grpo.yaml", "qwen3_4b_hicra.yaml"])
def test_shipped_configs_load(name, tmp_path):
    values = load_yaml(CONFIGS / name, HICRAConfig)
    values.update(output_dir=str(tmp_path), bf16=False)  # no GPU here; every other key as shipped
    config = HICRAConfig(**values)
    if name.startswith("qwen3"):
        assert config.use_vllm and config.vllm_mode == "colocate" and config.hicra_alpha == 0.2
        assert config.epsilon_high == 0.28 and config.beta == 0.0 and config.gradient_checkpointing
        _, flags = parse(["--config", str(CONFIGS / name), "--vllm-mode", "server", "--no-bf16"])
        assert flags["vllm_mode"] == "server" and flags["use_vllm"] is True


@pytest.mark.parametrize("name,stage", [("ddp", None), ("zero2", 2), ("zero3", 3)])
def test_accelerate_configs_load(name, stage):
    from accelerate.commands.config.config_args import ClusterConfig

    config = ClusterConfig.from_yaml_file(str(CONFIGS / "accelerate" / f"{name}.yaml"))
    assert config.num_processes == 8 and config.mixed_precision == "bf16"
    if stage:
        assert config.distributed_type == "DEEPSPEED" and config.deepspeed_config["zero_stage"] == stage
    else:
        assert config.distributed_type == "MULTI_GPU"


def test_smoke_preset_runs_the_real_cli(tmp_path):
    run_dir = tmp_path / "smoke"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "hicra.cli", "train", "--preset", "smoke", "--output-dir",
                           str(run_dir)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "hicra train: 2 steps" in done.stdout and "planning-token ratio" in done.stdout
    records = read_rollouts(run_dir)
    assert len(records) == 8 and all(set(r) == RECORD_KEYS for r in records)
    assert all(len(r["completion_ids"]) == len(r["planning"]) == len(r["logprobs"]) for r in records)
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and "hicra/planning_ratio" in rows[0]
    assert (run_dir / "config.yaml").is_file() and (run_dir / "checkpoint-2" / "trainer_state.json").is_file()
    print(f"smoke run: {time.monotonic() - started:.1f} s")
