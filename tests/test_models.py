"""Model-name resolution: the offline default, run directories, plain paths."""

import pytest

from hicra.models import resolve_model_path


def _checkpoint(run, step):
    ckpt = run / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    (ckpt / "config.json").write_text("{}")
    (ckpt / "trainer_state.json").write_text("{}")
    return ckpt


def test_run_directory_resolves_to_final_else_newest_complete_checkpoint(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("method: hicra\n")
    with pytest.raises(RuntimeError, match="without a saved model"):
        resolve_model_path(str(run))
    _checkpoint(run, 2)
    newest = _checkpoint(run, 10)
    (run / "checkpoint-12").mkdir()  # killed while saving: no trainer_state.json
    assert resolve_model_path(str(run)) == str(newest)
    (run / "final").mkdir()
    (run / "final" / "config.json").write_text("{}")
    assert resolve_model_path(str(run)) == str(run / "final")


def test_other_names_pass_through(tmp_path):
    assert resolve_model_path("Qwen/Qwen3-4B") == "Qwen/Qwen3-4B"
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)
