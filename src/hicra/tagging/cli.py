"""``hicra tag``: mark planning tokens in a JSONL file of texts (paper §2.1, Figure 1)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from hicra.config import add_arguments, build_config, option


@dataclass
class TagConfig:
    """Options of ``hicra tag``."""

    lexicon: str = option("paper", "built-in lexicon name (paper) or a lexicon file")
    tokenizer: str = option("smollm2", "tokenizer: smollm2 (the default model's), a Hugging Face id or a local path")
    input: str = option("", "JSONL file, one object per line", required=True)
    field: str = option("text", "field of each object holding the text")
    output: str = option("", "output JSONL file", required=True)
    html: str | None = option(None, "also write an HTML page with planning tokens highlighted")
    batch_size: int = option(256, "texts tagged per batch", ge=1)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "tag", help="mark planning tokens (inside Strategic Grams) in texts",
        description="Tag every token of each text as planning (1, inside a Strategic Gram occurrence) or execution "
                    "(0). Output: one JSON object per input line with tokens, planning and spans [start, end, gram] "
                    "(character offsets into the input text).")
    add_arguments(p, TagConfig)
    p.set_defaults(func=run)


def inputs_of(args: TagConfig) -> list[tuple[str, str]]:
    """The files ``tag`` reads, by flag (a built-in lexicon name is no file)."""
    from hicra.lexicon import BUILTIN_LEXICONS

    return [("--input", args.input)] + ([] if args.lexicon in BUILTIN_LEXICONS else [("--lexicon", args.lexicon)])


def outputs_of(args: TagConfig) -> list[tuple[str, str]]:
    return [("--output", args.output)] + ([("--html", args.html)] if args.html else [])


def check_args(args: TagConfig) -> None:
    """Reject output paths that cannot be written before anything is read or written (one-line errors)."""
    from hicra.io import check_distinct

    for flag, path in outputs_of(args):
        if Path(path).is_dir():
            raise ValueError(f"{flag} {path}: is a directory")
    check_distinct(outputs_of(args), inputs_of(args))


def run(namespace: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hicra.lexicon import load_lexicon
    from hicra.models import load_tokenizer
    from hicra.io import Outputs
    from hicra.records import RecordError, iter_jsonl
    from hicra.tagging.tagger import PlanningTagger

    args = build_config(TagConfig, namespace)
    check_args(args)
    lexicon = load_lexicon(args.lexicon)
    texts = []
    for lineno, row in iter_jsonl(args.input):
        if args.field not in row:
            raise RecordError(f"{args.input}:{lineno}: missing field {args.field!r}")
        if not isinstance(row[args.field], str):
            raise RecordError(f"{args.input}:{lineno}: field {args.field!r} is not a string")
        texts.append(row[args.field])
    tagger = PlanningTagger(lexicon, load_tokenizer(args.tokenizer))
    tagged = []
    for i in tqdm(range(0, len(texts), args.batch_size), desc="tagging", unit="batch", disable=len(texts) < 1000):
        tagged.extend(tagger.tag_texts(texts[i:i + args.batch_size]))
    with Outputs(inputs_of(args)) as out:  # both files or neither
        out.write_jsonl(args.output, ({"tokens": t.tokens, "planning": t.planning.astype(int).tolist(),
                                       "spans": [[o.start, o.end, o.gram] for o in t.spans]} for t in tagged),
                        "--output")
        if args.html:
            from hicra.tagging.html import render_page

            out.write_text(args.html, render_page(tagged, title=f"Planning tokens ({lexicon.name} lexicon)"),
                           "--html")
    n_tok = sum(len(t.planning) for t in tagged)
    n_plan = sum(int(t.planning.sum()) for t in tagged)
    print(f"tagged {len(tagged)} texts, {n_tok} tokens, {n_plan} planning ({n_plan / max(n_tok, 1):.1%}) → {args.output}")
    return 0
