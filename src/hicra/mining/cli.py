"""``hicra mine``: Strategic-Gram mining (arXiv 2509.03646, §2.1 and Appendix A) and its review/ablation tools.

``hicra mine [OPTIONS]`` (or ``hicra mine run [OPTIONS]``) runs the pipeline; the other actions work on a lexicon:
``review-export``, ``review-import`` and ``ablate``. Heavy imports stay inside the run functions.
"""

from __future__ import annotations

import argparse

from hicra.config import add_arguments, build_config

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
    from hicra.mining.config import AblateConfig, ReviewExportConfig, ReviewImportConfig

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
    add_arguments(e, ReviewExportConfig)
    e.set_defaults(func=run_review_export)

    i = actions.add_parser("review-import", help="apply the human labels of a review CSV; report agreement",
                           description="Stores human_label per gram, drops rejected grams (unless "
                                       "--no-drop-rejected), reports accept rate and LLM-human agreement "
                                       "(raw and Cohen's kappa).")
    i.add_argument("lexicon", help="the lexicon the CSV was exported from")
    i.add_argument("csv", help="the edited review CSV")
    add_arguments(i, ReviewImportConfig)
    i.set_defaults(func=run_review_import)

    a = actions.add_parser("ablate", help="write lexicon variants with a random fraction of grams dropped (stage g)",
                           description="For each seed, drop a random --drop fraction of the grams and write the "
                                       "variant to --output DIR, with DIR/ablation.json listing what was dropped.")
    a.add_argument("lexicon", help="lexicon file (or built-in name, e.g. paper)")
    add_arguments(a, AblateConfig)
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
    from hicra.mining.config import MineConfig, ReviewExportConfig
    from hicra.mining.corpus import load_corpus
    from hicra.mining.review import export_review
    from hicra.records import rollouts_path

    cfg = build_config(ReviewExportConfig, args)
    lexicon = load_lexicon(args.lexicon)
    texts = load_corpus(MineConfig(rollouts=cfg.rollouts, text_field=cfg.text_field, success="all")).texts \
        if cfg.rollouts else []
    with Outputs([("lexicon", args.lexicon), ("--rollouts", rollouts_path(cfg.rollouts) if cfg.rollouts else "")]) \
            as out:
        path = export_review(lexicon, cfg.output, texts, cfg.examples, out=out)
    print(f"{len(lexicon)} grams → {path} (fill the human_label column, then `hicra mine review-import`)")
    return 0


def run_review_import(args: argparse.Namespace) -> int:
    from hicra.io import Outputs, check_distinct
    from hicra.lexicon import load_lexicon
    from hicra.mining.config import ReviewImportConfig
    from hicra.mining.review import import_review

    cfg = build_config(ReviewImportConfig, args)
    inputs = [("the lexicon", args.lexicon), ("the csv", args.csv)]
    check_distinct([("--output", cfg.output)], inputs)
    reviewed, report = import_review(load_lexicon(args.lexicon), args.csv, cfg.drop_rejected)
    with Outputs(inputs) as out:
        path = reviewed.save(cfg.output, out)
    _table("hicra mine review-import", ["what", "value"], [list(r) for r in report.rows()])
    print(f"{len(reviewed)} grams → {path}")
    return 0


def run_ablate(args: argparse.Namespace) -> int:
    from hicra.lexicon import BUILTIN_LEXICONS, load_lexicon
    from hicra.mining.ablate import ablate
    from hicra.mining.config import AblateConfig

    cfg = build_config(AblateConfig, args)
    lexicon = load_lexicon(args.lexicon)
    paths = ablate(lexicon, cfg.drop, cfg.seeds, cfg.output, cfg.first_seed,
                   "" if args.lexicon in BUILTIN_LEXICONS else args.lexicon)
    print(f"{len(paths)} variants of {lexicon.name} ({len(lexicon)} grams, {cfg.drop:.0%} dropped each) → "
          f"{cfg.output}")
    return 0
