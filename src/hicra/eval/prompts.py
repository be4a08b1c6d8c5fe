"""Evaluation prompts: the problem followed by the paper's instruction, wrapped in the model's chat template.

arXiv 2509.03646 (§4.1) evaluates with the DeepSeek-R1-style instruction "Please reason step by step, and put your
final answer within \\boxed{}." after the problem; the answer is then read from the final ``\\boxed{}``.
"""

from __future__ import annotations

from typing import Any

DEFAULT_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def user_message(problem: str, instruction: str = DEFAULT_INSTRUCTION) -> str:
    """The user turn: problem text, a newline, then the instruction (omitted when empty)."""
    return f"{problem.strip()}\n{instruction}" if instruction else problem.strip()


def build_prompt(tokenizer: Any, problem: str, instruction: str = DEFAULT_INSTRUCTION,
                 chat_template: bool = True, system_prompt: str | None = None) -> str:
    """The exact text given to the model for ``problem``.

    With ``chat_template`` and a tokenizer that has one, the user turn (and ``system_prompt`` if given) is rendered
    with ``add_generation_prompt=True``; otherwise (base models) the plain user turn followed by a newline.
    """
    content = user_message(problem, instruction)
    if chat_template and getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
        messages.append({"role": "user", "content": content})
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    prefix = f"{system_prompt}\n\n" if system_prompt else ""
    return f"{prefix}{content}\n"
