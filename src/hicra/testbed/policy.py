"""The testbed's tiny policy: a byte-level BPE tokenizer trained on the task corpus and a small Llama built from a
config, saved together as a normal Hugging Face checkpoint directory (``--model DIR`` / ``--tokenizer DIR``).

Tokenizer: byte-level BPE (``tokenizers``), every digit its own pre-token (so numbers are spelled digit by digit),
special tokens ``<|pad|>``, ``<|im_start|>``, ``<|im_end|>`` (= eos), and a ChatML chat template.
Model: ``transformers.LlamaForCausalLM`` with tied embeddings; the default shape has about 0.5 M parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

PAD, BOS, EOS = "<|pad|>", "<|im_start|>", "<|im_end|>"
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@dataclass(frozen=True)
class PolicyShape:
    """Size of the tokenizer and the Llama policy."""

    vocab_size: int = 400
    hidden_size: int = 128
    intermediate_size: int = 256
    layers: int = 3
    heads: int = 4
    max_positions: int = 256


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """A ``PreTrainedTokenizerFast``: byte-level BPE trained on ``texts`` (digits split), chat template, eos."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                  pre_tokenizers.ByteLevel(add_prefix_space=False)])
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[PAD, BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token=PAD, bos_token=BOS, eos_token=EOS)
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_model(tokenizer, shape: PolicyShape, seed: int = 0):
    """A freshly initialised ``LlamaForCausalLM`` of ``shape`` for ``tokenizer``."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=shape.hidden_size,
                         intermediate_size=shape.intermediate_size, num_hidden_layers=shape.layers,
                         num_attention_heads=shape.heads, num_key_value_heads=shape.heads,
                         max_position_embeddings=shape.max_positions, tie_word_embeddings=True,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id,
                                               pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id)
    return model


def parameter_count(model) -> int:
    return sum(p.numel() for p in model.parameters())
