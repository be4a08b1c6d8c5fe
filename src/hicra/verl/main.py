"""``python -m hicra.verl.main [verl Hydra overrides]``: verl's ``main_ppo`` with HICRA's startup checks.

verl loads ``verl.plugins`` entry points on ``import verl`` and logs a plugin that fails to import only at debug
level; a config that asks for HICRA but reaches verl's own ``sync`` trainer would train plain GRPO. Before Ray starts,
:func:`check_request` refuses such configs and :func:`require_plugin` proves that the plugin is installed, allowed by
``VERL_USE_EXTERNAL_PLUGINS`` and importable (re-raising its import error); the task-runner actor imports the trainer
module explicitly too, so a Ray node without hicra fails with the real error instead of "Unknown trainer".
The rest is verl's ``main``: the same Hydra config (``verl/trainer/config/ppo_trainer.yaml``) and overrides.
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points
from pathlib import Path

from hicra.config import ConfigError
from hicra.verl.config import HICRAVerlConfig

PLUGIN_GROUP, PLUGIN_NAME, TRAINER_MODE = "verl.plugins", "hicra", "hicra"


class PluginError(RuntimeError):
    """HICRA was requested but verl will not load the hicra plugin."""


def check_request(config) -> HICRAVerlConfig | None:
    """The validated ``algorithm.hicra`` when HICRA is requested (by that node or by the trainer mode), else None.

    Raises :class:`~hicra.config.ConfigError` for any config under which verl would not apply it.
    """
    node = config.algorithm.get("hicra")
    mode = config.trainer.get("v1", {}).get("trainer_mode")
    if node is None and mode != TRAINER_MODE:
        return None
    cfg = HICRAVerlConfig.from_mapping(dict(node) if node is not None else None)
    if not config.trainer.get("use_v1", True):
        raise ConfigError("HICRA on verl extends the v1 trainer: set trainer.use_v1=true (verl 0.9.1's default); the "
                          "legacy trainer would ignore algorithm.hicra and train plain GRPO")
    if mode != TRAINER_MODE:
        raise ConfigError(f"algorithm.hicra is set but trainer.v1.trainer_mode={mode}: verl would train plain GRPO; "
                          f"set trainer.v1.trainer_mode={TRAINER_MODE}")
    coeff = config.actor_rollout_ref.actor.get("entropy_coeff", 0.0)
    if cfg.method == "entropy_reg" and not coeff > 0:
        raise ConfigError(f"algorithm.hicra.method=entropy_reg needs actor_rollout_ref.actor.entropy_coeff > 0 (verl's "
                          f"entropy bonus), got {coeff}")
    bypass = (config.algorithm.get("rollout_correction") or {}).get("bypass_mode", False)
    if cfg.method == "hicra_entropy" and bypass:
        raise ConfigError("algorithm.hicra.method=hicra_entropy needs verl's recomputed token entropy, which "
                          "algorithm.rollout_correction.bypass_mode=true skips")
    if config.algorithm.adv_estimator != "grpo":
        raise ConfigError(f"HICRA builds on GRPO advantages: set algorithm.adv_estimator=grpo "
                          f"(got {config.algorithm.adv_estimator!r})")
    return cfg


def require_plugin() -> None:
    """Fail loudly unless every verl process will load the hicra plugin (see module docstring)."""
    names = {ep.name: ep for ep in entry_points(group=PLUGIN_GROUP)}
    if PLUGIN_NAME not in names:
        raise PluginError(f"HICRA requested but the {PLUGIN_GROUP!r} entry point {PLUGIN_NAME!r} is not installed in "
                          f"this environment: pip install 'hicra[verl]' on every node")
    policy = os.getenv("VERL_USE_EXTERNAL_PLUGINS", "auto").strip().lower()
    allowed = policy == "auto" or PLUGIN_NAME in {p.strip() for p in policy.split(",")}
    if not allowed:
        raise PluginError(f"HICRA requested but VERL_USE_EXTERNAL_PLUGINS={policy!r} keeps verl from loading the "
                          f"{PLUGIN_NAME!r} plugin; unset it or add {PLUGIN_NAME}")
    try:
        importlib.import_module(names[PLUGIN_NAME].value)
    except Exception as e:
        raise PluginError(f"HICRA requested but its verl plugin {names[PLUGIN_NAME].value!r} fails to import: "
                          f"{type(e).__name__}: {e}") from e
    from verl.trainer.ppo.v1 import get_trainer_cls

    from hicra.verl.trainer import HICRATrainer

    if get_trainer_cls(TRAINER_MODE) is not HICRATrainer:
        raise PluginError(f"trainer mode {TRAINER_MODE!r} is registered to another class")


def task_runner_class():
    """verl's ``TaskRunnerV1`` actor, importing the HICRA trainer first in the actor's own process."""
    import ray
    from verl.trainer.main_ppo import TaskRunnerV1

    base = TaskRunnerV1.__ray_actor_class__

    class HICRATaskRunner(base):
        def run(self, config):
            importlib.import_module("hicra.verl.trainer")  # registers trainer_mode=hicra or raises the real error
            return super().run(config)

    return ray.remote(HICRATaskRunner)


def main() -> None:
    import hydra
    import verl.trainer

    config_dir = str(Path(verl.trainer.__file__).parent / "config")

    @hydra.main(config_path=config_dir, config_name="ppo_trainer", version_base=None)
    def run(config) -> None:
        from verl.trainer.main_ppo import run_ppo
        from verl.trainer.ppo.utils import need_critic, need_reference_policy
        from verl.utils.config import validate_config
        from verl.utils.device import auto_set_device

        if check_request(config) is None:
            from verl.trainer.main_ppo import main as verl_main

            return verl_main(config)  # nothing of hicra's asked for: verl's own main, unchanged
        require_plugin()
        auto_set_device(config)
        validate_config(config=config, use_reference_policy=need_reference_policy(config),
                        use_critic=need_critic(config))
        run_ppo(config, task_runner_class=task_runner_class())

    run()


if __name__ == "__main__":
    main()
