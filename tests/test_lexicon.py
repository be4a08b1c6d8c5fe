"""Lexicon loading (paper §2.1, Appendix A): the built-in list, both file formats, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hicra.lexicon import LEXICON_FORMAT, LexiconError, load_lexicon, make_lexicon, normalize_gram


def test_builtin_paper_lexicon_is_appendix_a(shared_dir: Path):
    lex = load_lexicon("paper")
    printed = json.loads((shared_dir / "lexicons" / "paper_appendix_a.json").read_text(encoding="utf-8"))["grams"]
    assert lex.name == "paper" and len(lex) == 249
    assert list(lex.grams) == [normalize_gram(g) for g in printed]
    assert all(normalize_gram(g) == g for g in lex.grams) and len(set(lex.grams)) == len(lex.grams)
    assert {"but wait", "let's", "## step", "hmm,", "what am i missing?"} <= set(lex.grams)


def test_normalize_gram():
    assert normalize_gram("  Let’s \n  Check\tIT ") == "let's check it"
    assert normalize_gram("İ ΣΑΣ") == "İ σασ"  # lower-cased character by character, as the tagger compares text


def test_json_lexicon_with_metadata(tmp_path: Path):
    path = tmp_path / "mined.json"
    path.write_text(json.dumps({"format": LEXICON_FORMAT, "version": 1, "name": "mined", "source": "run 3",
                                "grams": ["But  Wait", {"gram": "Let’s try", "cluster": 2, "df": 0.1}, "but wait"]}),
                    encoding="utf-8")
    lex = load_lexicon(path)
    assert (lex.name, lex.source, lex.grams) == ("mined", "run 3", ("but wait", "let's try"))
    assert lex.metadata == {"let's try": {"cluster": 2, "df": 0.1}}
    assert load_lexicon(lex.save(tmp_path / "copy.json")) == lex


def test_plain_json_lexicon_takes_the_file_name(tmp_path: Path):
    path = tmp_path / "mine.json"
    path.write_text('{"grams": ["so", "thus"]}', encoding="utf-8")
    lex = load_lexicon(str(path))
    assert (lex.name, lex.grams) == ("mine", ("so", "thus"))


def test_text_lexicon(tmp_path: Path):
    path = tmp_path / "grams.txt"
    path.write_text("# my grams\n\nBut wait\n  # indented comment\nlet’s see\nbut wait\n", encoding="utf-8")
    lex = load_lexicon(path)
    assert (lex.name, lex.grams) == ("grams", ("but wait", "let's see"))


@pytest.mark.parametrize("name, content, problem", [
    ("bad.json", '{\n "grams": ["a",\n}', ":3: invalid JSON"),
    ("v2.json", '{"format": "hicra-lexicon", "version": 2, "grams": ["a"]}', "field 'version' is 2"),
    ("fmt.json", '{"format": "other", "grams": ["a"]}', "field 'format' is 'other'"),
    ("str.json", '{"grams": "but wait"}', "field 'grams' must be a list"),
    ("nogrames.json", '{"name": "x"}', "expected a JSON object with a 'grams' list"),
    ("list.json", '["a", "b"]', "expected a JSON object with a 'grams' list"),
    ("emptygram.json", '{"grams": ["ok", "  "]}', "grams[1]: empty gram"),
    ("number.json", '{"grams": ["ok", 3]}', "grams[1]: expected a string or an object, got int"),
    ("object.json", '{"grams": [{"cluster": 1}]}', "grams[0]: object without a 'gram' string"),
    ("none.json", '{"grams": []}', "the lexicon has no grams"),
    ("none.txt", "# only a comment\n\n", "the lexicon has no grams"),
    ("dot.json", '{"grams": ["but wait", "."]}', "grams[1]: gram '.' has no letter or digit"),
    ("dashes.json", '{"grams": [{"gram": "-- ..."}]}', "grams[0]: gram '-- ...' has no letter or digit"),
    ("dot.txt", "# grams\nbut wait\n\n.\n", ":4: gram '.' has no letter or digit"),
    ("true.json", '{"version": true, "grams": ["a"]}', "field 'version' is true"),
    ("dup.json", '{"grams": ["a"], "grams": ["b"]}', ":1: duplicate key 'grams'"),
    ("under.txt", "_\n", ":1: gram '_' has no letter or digit"),
])
def test_bad_files_raise_one_line_errors(tmp_path: Path, name: str, content: str, problem: str):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError) as err:
        load_lexicon(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}:") and problem in message


def test_missing_and_binary_files(tmp_path: Path):
    with pytest.raises(LexiconError, match=r"nothere\.json: no such lexicon file \(built-in lexicons: paper\)"):
        load_lexicon(tmp_path / "nothere.json")
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9\n")
    with pytest.raises(LexiconError, match="not UTF-8"):
        load_lexicon(path)


def test_make_lexicon_keeps_first_spelling_and_metadata():
    lex = make_lexicon("m", ["So", "so", " "], {"So": {"df": 1}})
    assert lex.grams == ("so",) and lex.metadata == {"so": {"df": 1}}
    assert len(lex) == 1 and lex.to_json()["grams"] == [{"gram": "so", "df": 1}]
