"""``hicra tag``: mark planning tokens in a JSONL file of texts (paper §2.1, Figure 1)."""

from __future__ import annotations

import argparse


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


def _line_of_record(path: str, index: int) -> int:
    """1-based line number of the ``index``-th non-blank line (the record ``read_jsonl`` yielded)."""
    with open(path, encoding="utf-8") as f:
        nonblank = (n for n, line in enumerate(f, 1) if line.strip())
        return next(n for k, n in enumerate(nonblank) if k == index)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hicra.lexicon import load_lexicon
    from hicra.models import load_tokenizer
    from hicra.records import RecordError, read_jsonl, write_jsonl
    from hicra.tagging.tagger import PlanningTagger

    lexicon = load_lexicon(args.lexicon)
    rows = list(read_jsonl(args.input, required=(args.field,)))
    for k, row in enumerate(rows):
        if not isinstance(row[args.field], str):
            raise RecordError(f"{args.input}:{_line_of_record(args.input, k)}: field {args.field!r} is not a string")
    tagger = PlanningTagger(lexicon, load_tokenizer(args.tokenizer))
    tagged = []
    for i in tqdm(range(0, len(rows), args.batch_size), desc="tagging", unit="batch", disable=len(rows) < 1000):
        tagged.extend(tagger.tag_texts([r[args.field] for r in rows[i:i + args.batch_size]]))
    write_jsonl(args.output, ({"tokens": t.tokens, "planning": t.planning.astype(int).tolist(),
                               "spans": [[o.start, o.end, o.gram] for o in t.spans]} for t in tagged))
    if args.html:
        from hicra.tagging.html import write_html

        write_html(args.html, tagged, title=f"Planning tokens ({lexicon.name} lexicon)")
    n_tok = sum(len(t.planning) for t in tagged)
    n_plan = sum(int(t.planning.sum()) for t in tagged)
    print(f"tagged {len(tagged)} texts, {n_tok} tokens, {n_plan} planning ({n_plan / max(n_tok, 1):.1%}) → {args.output}")
    return 0
