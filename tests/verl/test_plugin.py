"""The plugin's wiring in verl 0.9.1: entry-point loading, startup checks, and the launch scripts' overrides."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import verl.trainer
from hydra import compose, initialize_config_dir
from verl.trainer.ppo.utils import need_critic, need_reference_policy
from verl.utils.config import validate_config

from hicra.config import ConfigError
from hicra.verl.main import PluginError, check_request, require_plugin

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = str(Path(verl.trainer.__file__).parent / "config")
HICRA = ["algorithm.adv_estimator=grpo", "trainer.v1.trainer_mode=hicra", "+algorithm.hicra.method=hicra"]


def verl_config(overrides: list[str]):
    """verl's own ppo_trainer.yaml with Hydra overrides (unknown keys fail as they would in a launch)."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        return compose(config_name="ppo_trainer", overrides=overrides)


def launch_overrides(method: str) -> list[str]:
    """HICRA_ARGS of examples/verl/common.sh as bash expands them."""
    env = {**os.environ, "METHOD": method, "DATA_DIR": "/data", "OUT": "/runs/x", "HOME": "/home/u"}
    out = subprocess.run(["bash", "-c", 'source examples/verl/common.sh && printf "%s\\n" "${HICRA_ARGS[@]}"'],
                         cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def test_entry_point_registers_the_trainer_on_import_verl():
    code = ("import verl; from verl.trainer.ppo.v1 import get_trainer_cls; "
            "print(get_trainer_cls('hicra').__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "hicra.verl.trainer"


def test_require_plugin(monkeypatch):
    require_plugin()  # installed, allowed, importable
    for policy in ("none", "someone_else"):
        monkeypatch.setenv("VERL_USE_EXTERNAL_PLUGINS", policy)
        with pytest.raises(PluginError, match="VERL_USE_EXTERNAL_PLUGINS"):
            require_plugin()
    monkeypatch.setenv("VERL_USE_EXTERNAL_PLUGINS", "hicra,other")
    require_plugin()


def test_check_request_refuses_configs_that_would_train_plain_grpo():
    assert check_request(verl_config([])) is None  # nothing asked of hicra
    cfg = check_request(verl_config(HICRA + ["+algorithm.hicra.alpha=0.3"]))
    assert (cfg.method, cfg.alpha) == ("hicra", 0.3)
    assert check_request(verl_config(["algorithm.adv_estimator=grpo", "trainer.v1.trainer_mode=hicra"])).alpha == 0.2
    refused = {
        "trainer_mode=hicra": ["algorithm.adv_estimator=grpo", "+algorithm.hicra.method=hicra"],
        "trainer.use_v1=true": HICRA + ["trainer.use_v1=false"],
        "adv_estimator=grpo": HICRA[1:],
        "entropy_coeff > 0": HICRA[:2] + ["+algorithm.hicra.method=entropy_reg"],
        "unknown key": HICRA + ["+algorithm.hicra.alpah=0.2"],
        "method is 'hircra'": HICRA[:2] + ["+algorithm.hicra.method=hircra"],
        "bypass_mode=true skips": HICRA[:2] + ["+algorithm.hicra.method=hicra_entropy",
                                               "algorithm.rollout_correction.bypass_mode=true"],
    }
    for message, overrides in refused.items():
        with pytest.raises(ConfigError, match=message):
            check_request(verl_config(overrides))


@pytest.mark.parametrize("method", ["hicra", "grpo", "entropy_reg", "hicra_entropy"])
def test_launch_scripts_compose_against_verl_config(method):
    config = verl_config(launch_overrides(method))
    validate_config(config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
    cfg = check_request(config)
    assert (cfg.method, cfg.alpha, cfg.run_dir) == (method, 0.2, "/runs/x")
    actor = config.actor_rollout_ref.actor
    assert (actor.clip_ratio_high, actor.clip_ratio_low, actor.use_kl_loss) == (0.28, 0.2, False)
    assert actor.entropy_coeff == (0.001 if method == "entropy_reg" else 0)
    assert config.data.train_files == "/data/dapo-math-17k/data/dapo-math-17k.parquet"
    assert config.trainer.rollout_data_dir == "/runs/x/rollout_dump"


def test_launcher_refuses_before_starting_ray(tmp_path):
    """`python -m hicra.verl.main` with HICRA asked for but verl's sync trainer selected: a clear error, exit 1."""
    args = [sys.executable, "-m", "hicra.verl.main", "algorithm.adv_estimator=grpo", "+algorithm.hicra.method=hicra",
            f"hydra.run.dir={tmp_path}"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 1
    assert "trainer.v1.trainer_mode=sync: verl would train plain GRPO" in out.stderr
    assert "ray init" not in out.stdout  # refused before Ray starts
