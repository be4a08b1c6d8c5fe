"""``hicra mine``: Strategic-Gram mining (arXiv 2509.03646, §2.1 and Appendix A) and its review/ablation tools.

``hicra mine [OPTIONS]`` (or ``hicra mine run [OPTIONS]``) runs the pipeline; the other actions work on a lexicon:
``review-export``, ``review-import`` and ``ablate``. Heavy imports stay inside the run functions.
"""

from __future__ import annotations

import argparse

from hicra.config import add_arguments

DESCRIPTION = """\
Mine Strategic Grams from successful solutions (paper §2.1): a. keep successful solutions → b. normalised word
3-5-grams without math/numbers → c. frequent across solutions, sparse within each → d. embed, cluster, keep the top
20% of clusters by cluster document frequency → e. optional LLM labels strategic/procedural → lexicon JSON.

  hicra mine --rollouts RUN_DIR --output sg.json
  hicra mine --rollouts math500/test.jsonl --text-field solution --output sg.json --review-csv review.csv
  hicra mine review-import sg.json review.csv --output sg.reviewed.json
  hicra mine ablate sg.json --drop 0.3 --seeds 5 --output ablations/

Options map onto one config (YAML via --config); stage letters prefix each option's help."""


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    from hicra.mining.config import MineConfig

    p.add_argument("--config", default=argparse.SUPPRESS, help="YAML file of options (flags override it)")
    add_arguments(p, MineConfig)


def register(subparsers) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = subparsers.add_parser("mine", help="mine Strategic Grams from successful solutions into a lexicon",
                              description=DESCRIPTION, formatter_class=fmt)
    _add_run_arguments(p)
    p.set_defaults(func=run)
    actions = p.add_subparsers(dest="mine_action", metavar="[ACTION]")

    r = actions.add_parser("run", help="run the mining pipeline (the same as bare `hicra mine`)",
                           description=DESCRIPTION, formatter_class=fmt)
    _add_run_arguments(r)
    r.set_defaults(func=run)

    e = actions.add_parser("review-export", help="write a human-review CSV for a lexicon (stage f)",
                           description="One row per gram: gram, cluster, cluster_df, df, llm_label, human_label "
                                       "(empty, for reviewers) and example contexts from --rollouts.")
    e.add_argument("lexicon", help="lexicon file (or built-in name)")
    e.add_argument("--output", required=True, help="CSV file to write")
    e.add_argument("--rollouts", default="", help="run directory or JSONL corpus for example contexts (optional)")
    e.add_argument("--text-field", default="auto", help="field holding the text (default: auto)")
    e.add_argument("--examples", type=int, default=3, help="contexts per gram (default: 3)")
    e.set_defaults(func=run_review_export)

    i = actions.add_parser("review-import", help="apply the human labels of a review CSV; report agreement",
                           description="Stores human_label per gram, drops rejected grams (unless "
                                       "--no-drop-rejected), reports accept rate and LLM-human agreement "
                                       "(raw and Cohen's kappa).")
    i.add_argument("lexicon", help="the lexicon the CSV was exported from")
    i.add_argument("csv", help="the edited review CSV")
    i.add_argument("--output", required=True, help="reviewed lexicon JSON to write")
    i.add_argument("--drop-rejected", action=argparse.BooleanOptionalAction, default=True,
                   help="drop grams labelled procedural by reviewers (default: drop)")
    i.set_defaults(func=run_review_import)

    a = actions.add_parser("ablate", help="write lexicon variants with a random fraction of grams dropped (stage g)",
                           description="For each seed, drop a random --drop fraction of the grams and write the "
                                       "variant to --output DIR, with DIR/ablation.json listing what was dropped.")
    a.add_argument("lexicon", help="lexicon file (or built-in name, e.g. paper)")
    a.add_argument("--drop", type=float, default=0.3, help="fraction of grams to drop (default: 0.3)")
    a.add_argument("--seeds", type=int, default=5, help="number of variants (default: 5)")
    a.add_argument("--first-seed", type=int, default=0, help="seed of the first variant (default: 0)")
    a.add_argument("--output", required=True, help="directory for the variants")
    a.set_defaults(func=run_ablate)


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, justify="right" if col == "count" else "left")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def run(args: argparse.Namespace) -> int:
    from hicra.config import build_config
    from hicra.mining.config import MineConfig
    from hicra.mining.pipeline import check_outputs, mine, write_outputs

    cfg = build_config(MineConfig, args)
    check_outputs(cfg, getattr(args, "config", None))
    result = mine(cfg)
    written = write_outputs(result, cfg, getattr(args, "config", None))
    _table("hicra mine: stage counts", ["stage", "what", "count"], [[s, w, str(c)] for s, w, c in result.counts])
    top = []
    for gram in result.lexicon.grams[:15]:
        meta = result.lexicon.metadata.get(gram, {})
        top.append([str(meta.get("cluster", "-")), str(meta.get("cluster_df", "-")), str(meta.get("df", "-")),
                    meta.get("llm_label", ""), gram])
    _table("top grams", ["cluster", "cluster df", "df", "llm", "gram"], top)
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items())
    print(f"{len(result.lexicon)} grams → {', '.join(map(str, written))} ({timing})")
    return 0


def run_review_export(args: argparse.Namespace) -> int:
    from hicra.io import Outputs
    from hicra.lexicon import load_lexicon
    from hicra.mining.config import MineConfig
    from hicra.mining.corpus import load_corpus
    from hicra.mining.review import export_review
    from hicra.records import rollouts_path

    if args.examples < 0:
        raise ValueError(f"--examples must be >= 0, got {args.examples}")
    lexicon = load_lexicon(args.lexicon)
    texts = load_corpus(MineConfig(rollouts=args.rollouts, text_field=args.text_field, success="all")).texts \
        if args.rollouts else []
    with Outputs([("lexicon", args.lexicon), ("--rollouts", rollouts_path(args.rollouts) if args.rollouts else "")]) \
            as out:
        path = export_review(lexicon, args.output, texts, args.examples, out=out)
    print(f"{len(lexicon)} grams → {path} (fill the human_label column, then `hicra mine review-import`)")
    return 0


def run_review_import(args: argparse.Namespace) -> int:
    from hicra.io import Outputs, check_distinct
    from hicra.lexicon import load_lexicon
    from hicra.mining.review import import_review

    inputs = [("the lexicon", args.lexicon), ("the csv", args.csv)]
    check_distinct([("--output", args.output)], inputs)
    reviewed, report = import_review(load_lexicon(args.lexicon), args.csv, args.drop_rejected)
    with Outputs(inputs) as out:
        path = reviewed.save(args.output, out)
    _table("hicra mine review-import", ["what", "value"], [list(r) for r in report.rows()])
    print(f"{len(reviewed)} grams → {path}")
    return 0


def run_ablate(args: argparse.Namespace) -> int:
    from hicra.lexicon import BUILTIN_LEXICONS, load_lexicon
    from hicra.mining.ablate import ablate

    lexicon = load_lexicon(args.lexicon)
    paths = ablate(lexicon, args.drop, args.seeds, args.output, args.first_seed,
                   "" if args.lexicon in BUILTIN_LEXICONS else args.lexicon)
    print(f"{len(paths)} variants of {lexicon.name} ({len(lexicon)} grams, {args.drop:.0%} dropped each) → "
          f"{args.output}")
    return 0
