"""``hicra tag``: mark planning tokens in a JSONL file of texts (paper §2.1, Figure 1)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "tag", help="mark planning tokens (inside Strategic Grams) in texts",
        description="Tag every token of each text as planning (1, inside a Strategic Gram occurrence) or execution "
                    "(0). Output: one JSON object per input line with tokens, planning and spans [start, end, gram] "
                    "(character offsets into the input text).")
    p.add_argument("--lexicon", default="paper", help="built-in lexicon name (paper) or a lexicon file (default: paper)")
    p.add_argument("--tokenizer", default="smollm2",
                   help="tokenizer: smollm2 (the default model's), a Hugging Face id or a local path (default: smollm2)")
    p.add_argument("--input", required=True, help="JSONL file, one object per line")
    p.add_argument("--field", default="text", help="field of each object holding the text (default: text)")
    p.add_argument("--output", required=True, help="output JSONL file")
    p.add_argument("--html", default=None, help="also write an HTML page with planning tokens highlighted")
    p.add_argument("--batch-size", type=int, default=256, help="texts tagged per batch (default: 256)")
    p.set_defaults(func=run)


def inputs_of(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The files ``tag`` reads, by flag (a built-in lexicon name is no file)."""
    from hicra.lexicon import BUILTIN_LEXICONS

    return [("--input", args.input)] + ([] if args.lexicon in BUILTIN_LEXICONS else [("--lexicon", args.lexicon)])


def outputs_of(args: argparse.Namespace) -> list[tuple[str, str]]:
    return [("--output", args.output)] + ([("--html", args.html)] if args.html else [])


def check_args(args: argparse.Namespace) -> None:
    """Reject bad flags before anything is read or written (one-line errors naming the flag)."""
    from hicra.io import check_distinct

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    for flag, path in outputs_of(args):
        if Path(path).is_dir():
            raise ValueError(f"{flag} {path}: is a directory")
    check_distinct(outputs_of(args), inputs_of(args))


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hicra.lexicon import load_lexicon
    from hicra.models import load_tokenizer
    from hicra.io import Outputs
    from hicra.records import RecordError, iter_jsonl
    from hicra.tagging.tagger import PlanningTagger

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
