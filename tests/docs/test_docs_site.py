"""The documentation cannot rot: the site builds without a warning, every ``hicra`` command line in the README and the
docs is accepted by hicra's own parsers, and every option table equals what the config dataclasses generate."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import doclines

REPO = doclines.REPO


def _load_doc_options():
    spec = importlib.util.spec_from_file_location("doc_options", REPO / "tools" / "doc_options.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_site_builds_strict(tmp_path: Path) -> None:
    """``mkdocs build --strict``: a broken link or anchor, a page missing from the nav or a docstring the API
    reference cannot render fails the suite."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                             str(REPO / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (tmp_path / "site" / "reference" / "verl-trainer" / "index.html").read_text(encoding="utf-8").count(
        "HICRATrainer") > 0, "the verl trainer's API page is empty"


def test_every_documented_command_line_parses() -> None:
    lines = [line for path in doclines.documents() for line in doclines.command_lines(path)]
    assert len(lines) > 30, "the command-line extraction found almost nothing"
    assert {line.argv[0] for line in lines if line.argv} >= {"tag", "mine", "train", "eval", "grade", "score",
                                                               "analyze", "judge", "report", "study"}
    errors = [f"{line.where()}: {line.text}\n    {error}" for line in lines
              if (error := doclines.check(line.argv, line.inline))]
    assert not errors, "documented command lines that hicra refuses:\n" + "\n".join(errors)


def test_every_flag_named_in_prose_exists() -> None:
    """``--min-df`` in a sentence of the mine guide must be a flag of ``hicra mine``; on other pages, of some
    command."""
    errors, named = [], 0
    for path in doclines.documents():
        command = doclines.page_command(path)
        known = doclines.known_flags(command)
        for number, flag in doclines.prose_flags(path):
            named += 1
            if flag not in known:
                errors.append(f"{path.relative_to(REPO)}:{number}: {flag} is no flag of hicra {command or 'COMMAND'}")
    assert named > 100, "the flag extraction found almost nothing"
    assert not errors, "\n".join(errors)


def test_a_renamed_flag_in_prose_is_found(tmp_path: Path) -> None:
    page = tmp_path / "commands" / "mine.md"
    page.parent.mkdir()
    page.write_text("Keeps `--min-df` 1% and `--min-doc-freq`; `mine --max-solution N`; `pip install --no-deps`.\n"
                    "```bash\n--not-prose\n```\n", encoding="utf-8")
    assert doclines.page_command(page) == "mine"
    flags = [flag for _, flag in doclines.prose_flags(page)]
    assert flags == ["--min-df", "--min-doc-freq", "--max-solution"]
    assert [f for f in flags if f not in doclines.known_flags("mine")] == ["--min-doc-freq", "--max-solution"]
    assert "--hicra-alpha" not in doclines.known_flags("mine") and "--hicra-alpha" in doclines.known_flags()


@pytest.mark.parametrize("line, problem", [
    ("hicra train --hicra-alfa 0.3", "unrecognized arguments: --hicra-alfa"),  # a renamed flag
    ("hicra train --method grpo_plus", "invalid choice: 'grpo_plus'"),
    ("hicra train --max-steps many", "invalid"),
    ("hicra tag --lexicon paper --input F --output G --htm out.html", "unrecognized arguments: --htm"),  # no prefix
    ("hicra mine ablate sg.json --drop-fraction 0.3 --output ablations/", "unrecognized arguments: --drop-fraction"),
    ("hicra study --methods hicra,grpo --output DIR --hicra-alfa 0.3", "unrecognized arguments: --hicra-alfa"),
    ("hicra eval --model smollm2 --backend tgi", "invalid choice: 'tgi'"),
    ("hicra analyze RUN_DIR", "required: --output"),
    ("hicra frobnicate --x 1", "invalid choice: 'frobnicate'"),
])
def test_a_wrong_command_line_is_refused(line: str, problem: str) -> None:
    error = doclines.check(doclines.hicra_argv(line))
    assert error is not None and problem in error, error


def test_a_renamed_flag_in_a_page_fails(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("Text.\n\n```bash\n.venv/bin/hicra train --method grpo \\\n    --hicra-alpha-value 0.2"
                    "   # comment\n```\n\nInline: `hicra eval --compare A B --label x,y`.\n", encoding="utf-8")
    lines = doclines.command_lines(page)
    assert [(line.line, line.inline) for line in lines] == [(4, False), (8, True)]
    assert "--hicra-alpha-value" in doclines.check(lines[0].argv)
    assert "--label " in doclines.check(lines[1].argv, inline=True) + " "


@pytest.mark.parametrize("line", [
    "hicra train --max-steps N --output-dir RUN_DIR --method grpo",
    "hicra train --config FILE.yaml --preset smoke",
    "hicra mine review-import sg.json review.csv --output sg.reviewed.json",
    "hicra study --methods hicra,grpo --seeds 0,1 --max-steps N --output DIR --print-commands | sh",
    "accelerate launch -m hicra.cli train --config configs/qwen3_4b_hicra.yaml",
])
def test_placeholders_and_shell_around_a_command_are_accepted(line: str) -> None:
    assert doclines.check(doclines.hicra_argv(line)) is None


def test_option_tables_match_the_dataclasses() -> None:
    doc_options = _load_doc_options()
    stale = doc_options.stale_pages()
    assert not stale, f"regenerate with `python tools/doc_options.py`: {[str(p.relative_to(REPO)) for p in stale]}"
    tables = sum(doc_options.MARKER.match(line.strip()) is not None
                 for p in (REPO / "docs").glob("**/*.md") for line in p.read_text(encoding="utf-8").splitlines())
    assert tables >= 9


def test_a_changed_default_makes_its_table_stale() -> None:
    doc_options = _load_doc_options()
    page = (REPO / "docs" / "commands" / "train.md").read_text(encoding="utf-8")
    assert "| `--hicra-alpha` | `0.2` |" in page
    edited = page.replace("| `--hicra-alpha` | `0.2` |", "| `--hicra-alpha` | `0.25` |")
    assert doc_options.render(edited) == page
