"""Stage f: review CSV export with real contexts, import of edited labels, accept rate and Cohen's κ."""

import csv

import pytest

from hicra.lexicon import make_lexicon
from hicra.mining.review import COLUMNS, ReviewError, export_review, import_review

GRAMS = ["we know that", "the sum of", "we need to", "both sides by", "this gives us", "the number of"]
LLM = ["strategic", "procedural", "strategic", "procedural", "strategic", "strategic"]


@pytest.fixture
def lexicon():
    meta = {g: {"cluster": i // 2, "df": 0.05, "llm_label": lab} for i, (g, lab) in enumerate(zip(GRAMS, LLM))}
    return make_lexicon("mined", GRAMS, meta, source="test")


def read(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_export_has_columns_labels_and_real_contexts(lexicon, tmp_path, math500_solutions):
    path = export_review(lexicon, tmp_path / "review.csv", math500_solutions, k=2)
    rows = read(path)
    assert tuple(rows[0]) == COLUMNS and [r["gram"] for r in rows] == GRAMS
    assert [r["llm_label"] for r in rows] == LLM and all(r["human_label"] == "" for r in rows)
    examples = rows[0]["examples"].split(" || ")
    assert len(examples) == 2 and all("[we know that]" in e.lower() for e in examples)
    no_texts = read(export_review(lexicon, tmp_path / "bare.csv"))
    assert no_texts[0]["examples"] == ""


def test_import_applies_labels_and_reports_agreement(lexicon, tmp_path):
    rows = read(export_review(lexicon, tmp_path / "review.csv"))
    human = ["strategic", "reject", "y", "procedural", "p", ""]  # last one not reviewed
    for row, lab in zip(rows, human):
        row["human_label"] = lab
    write(tmp_path / "review.csv", rows)
    reviewed, report = import_review(lexicon, tmp_path / "review.csv")
    assert (report.reviewed, report.accepted, report.both_labelled, report.dropped) == (5, 2, 5, 3)
    assert report.accept_rate == pytest.approx(0.4)
    # LLM S P S P S vs human S P S P P: 4 of 5 agree; κ = (0.8 - p_e) / (1 - p_e), p_e = .6*.4 + .4*.6 = .48
    assert report.agreement == pytest.approx(0.8)
    assert report.kappa == pytest.approx((0.8 - 0.48) / (1 - 0.48))
    assert reviewed.grams == ("we know that", "we need to", "the number of")
    assert reviewed.metadata["we need to"]["human_label"] == "strategic"
    assert "human_label" not in reviewed.metadata["the number of"]
    kept, report_all = import_review(lexicon, tmp_path / "review.csv", drop_rejected=False)
    assert len(kept) == 6 and report_all.dropped == 0
    assert kept.metadata["the sum of"]["human_label"] == "procedural"


def test_agreement_without_variation_has_no_kappa(lexicon, tmp_path):
    rows = read(export_review(lexicon, tmp_path / "review.csv"))
    rows = [dict(r, human_label="strategic") for r in rows if r["llm_label"] == "strategic"]
    write(tmp_path / "review.csv", rows)
    _, report = import_review(lexicon, tmp_path / "review.csv")
    assert report.agreement == 1.0 and report.kappa is None
    assert dict(report.rows())["Cohen's κ"] == "n/a"


@pytest.mark.parametrize("content, message", [
    ("gram,cluster\nwe know that,0\n", "missing column 'human_label'"),
    ("gram,human_label\nwe know that,strategic\nthe sum of,maybe\n", r"review\.csv:3: human_label 'maybe'"),
    ("gram,human_label\nwe know that,y\nlet's try,y\n", r"review\.csv:3: gram \"let's try\" is not in lexicon"),
    ("gram,human_label\nthe sum of,n\nwe know that,n\nwe need to,n\nboth sides by,n\nthis gives us,n\n"
     "the number of,n\n", "rejected every gram"),
])
def test_bad_review_files(lexicon, tmp_path, content, message):
    path = tmp_path / "review.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReviewError, match=message):
        import_review(lexicon, path)
