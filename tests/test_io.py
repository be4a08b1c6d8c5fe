"""hicra.io: the one reader (fuzzed: it loads or raises DataError naming file and line), the writer (all or nothing,
never an input, never a user's NAME.tmp), the appender (a complete last line is kept) and the directory lock."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hicra.io import (DataError, Outputs, OutputError, append_jsonl, check_distinct, iter_jsonl, lock_dir, read_csv,
                      read_json, read_text, read_yaml, repair_tail, write_text)

FILE_LINE = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+): \S[^\n]*$")
QUICK = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


def refusal(path: Path, text: str, read) -> str:
    """The error of ``read(path)`` on ``text`` written there: a :class:`DataError` of one line, ``FILE:LINE:
    problem``, naming ``path``."""
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as e:
        read(path)
    m = FILE_LINE.match(str(e.value))
    assert m and m["file"] == str(path), f"not FILE:LINE: {e.value}"
    return str(e.value)


# ------------------------------------------------------------------------------------------------- reader, by row

@pytest.mark.parametrize("text, problem", [
    ('{"a": 1, "a": 2}', ":1: duplicate key 'a'"),
    ('{\n "a": 1,\n "a": 2\n}', ":3: duplicate key 'a'"),
    ('{"r": NaN}', ":1: field 'r': NaN is not a finite number"),
    ('{"r": [1, -Infinity]}', "field 'r': -Infinity"),
    ('{"r": 1e400}', "field 'r': Infinity is not a finite number"),
    ('[1, [2, NaN], 3]', ":1: NaN is not a finite number"),
    ('{"step": 100000000000000000000000000000}', "field 'step': integer 100000000000000000000... is too large"),
    ('{"ids": [1, 9223372036854775808]}', "field 'ids': integer 9223372036854775808 is too large"),
    ('{"ids": [1, "a", -1e999]}', "field 'ids': -Infinity"),
    ("[" * 100 + "]" * 100, ":1: nesting deeper than 64 levels"),
    ("[" * 100000, ":1: nesting deeper than 64 levels"),
    ("[]", ":1: expected a mapping (key: value) at the top level of the JSON document, got list"),
    ("0", "got int"),
    ("", ":1: invalid JSON"),
])
def test_json_reader_refuses_with_file_and_line(tmp_path, text, problem):
    assert problem in refusal(tmp_path / "d.json", text, read_json)


@pytest.mark.parametrize("text, problem", [
    ("1: 2\nfoo: 3\n", ":1: key 1 is not a string"),
    ("a: 1\nb: 2\na: 3\n", ":3: duplicate key 'a'"),
    ("a: &x [1, 2]\nb: *x\n", ":2: aliases (*name) are not allowed"),
    ("a: &a [x,x,x]\nb: &b [*a,*a,*a]\nc: &c [*b,*b,*b]\n", ":2: aliases"),  # billion laughs, first level
    ("alpha: .nan\n", ":1: field 'alpha': .nan is not a finite number"),
    ("steps: 100000000000000000000000000000\n", "too large"),
    ("- " * 100 + "1\n", ":1: nesting deeper than 64 levels"),
    ("[]\n", ":1: expected a mapping (key: value) at the top level of the YAML document, got list"),
    ("0\n", "got int"),
    ("a: 1\n b: [\n", ":2: invalid YAML"),
])
def test_yaml_reader_refuses_with_file_and_line(tmp_path, text, problem):
    assert problem in refusal(tmp_path / "c.yaml", text, lambda path: read_yaml(path, empty={}))


def test_a_bom_is_stripped_everywhere(tmp_path):
    from hicra.lexicon import load_lexicon

    for name, text in (("d.json", '{"a": 1}'), ("c.yaml", "a: 1\n"), ("r.jsonl", '{"a": 1}\n')):
        (tmp_path / name).write_text("\ufeff" + text, encoding="utf-8")
    assert read_json(tmp_path / "d.json") == read_yaml(tmp_path / "c.yaml") == {"a": 1}
    assert list(iter_jsonl(tmp_path / "r.jsonl")) == [(1, {"a": 1})]
    (tmp_path / "sg.txt").write_text("\ufeffbut wait\n", encoding="utf-8")
    assert load_lexicon(tmp_path / "sg.txt").grams == ("but wait",)  # the first gram matches like the others
    (tmp_path / "r.csv").write_text("\ufeffgram,human_label\nso,s\n", encoding="utf-8")
    assert read_csv(tmp_path / "r.csv")[0] == ["gram", "human_label"]


def test_csv_reader(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("gram,gram\nx,y\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"r\.csv:1: duplicate column 'gram'"):
        read_csv(path)
    path.write_text("gram,label\n" + "x," + "y" * 200_000 + "\n", encoding="utf-8")  # over csv's default 131072
    assert len(read_csv(path)[1][0][1]["label"]) == 200_000
    refusal(path, 'gram,label\nx,y\n"open,z\n', read_csv)
    path.write_text("gram,label\nx,y,z\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"r\.csv:2: 3 cells but the header has 2 columns"):
        read_csv(path)


def test_read_text_names_the_line_of_a_bad_byte(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"ok\nok\ncaf\xe9\n")
    with pytest.raises(DataError, match=r"t\.txt:3: not UTF-8 text"):
        read_text(path)


# --------------------------------------------------------------------------------------------- reader, by property

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 63 + 1, 2 ** 63 - 1) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=30)
documents = st.one_of(
    json_values.map(lambda v: json.dumps(v)),  # NaN/Infinity included, since json.dumps writes them
    st.text(alphabet='{}[]:,"\\ 0123456789.eE+-truefalsnNIiy\n\t&*!<>#|a', max_size=60),
    st.integers().map(str),  # huge integers included
    st.text(max_size=40),
)


@QUICK
@given(text=documents, kind=st.sampled_from(["json", "yaml", "jsonl", "csv"]))
def test_fuzzed_documents_load_or_raise_one_located_error(tmp_path, text, kind):
    path = tmp_path / f"doc.{kind}"
    path.write_text(text, encoding="utf-8", newline="")
    read = {"json": lambda p: read_json(p, None), "yaml": lambda p: read_yaml(p, None),
            "jsonl": lambda p: list(iter_jsonl(p)), "csv": read_csv}[kind]
    try:
        value = read(path)
    except DataError as e:
        assert "\n" not in str(e) and str(e).startswith(f"{path}:"), str(e)
        return
    if kind == "json":  # what loads is finite, bounded and free of duplicate keys
        assert json.loads(json.dumps(value, allow_nan=False)) == value


@QUICK
@given(value=json_values)
def test_what_the_writer_writes_the_reader_reads_back(tmp_path, value):
    path = tmp_path / "v.json"
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return  # non-finite numbers are never written
    with Outputs() as out:
        out.write_json(path, {"v": value})
    assert read_json(path) == {"v": value}


@QUICK
@given(keys=st.lists(st.text(min_size=1, max_size=3, alphabet="ab"), min_size=2, max_size=5))
def test_duplicate_keys_are_never_silently_merged(tmp_path, keys):
    pairs = ", ".join(f"{json.dumps(k)}: {i}" for i, k in enumerate(keys))
    (tmp_path / "d.json").write_text("{" + pairs + "}", encoding="utf-8")
    (tmp_path / "d.yaml").write_text("".join(f"{json.dumps(k)}: {i}\n" for i, k in enumerate(keys)),
                                     encoding="utf-8")
    for path in (tmp_path / "d.json", tmp_path / "d.yaml"):
        if len(set(keys)) == len(keys):
            assert (read_json(path) if path.suffix == ".json" else read_yaml(path)) == {k: i for i, k in
                                                                                         enumerate(keys)}
        else:
            with pytest.raises(DataError, match="duplicate key"):
                read_json(path) if path.suffix == ".json" else read_yaml(path)


# ----------------------------------------------------------------------------------------------------------- writer

def test_outputs_are_all_or_nothing_and_keep_a_users_tmp_file(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.html"
    a.write_text("old a\n")
    (tmp_path / "a.jsonl.tmp").write_text("the user's own file\n")
    with pytest.raises(RuntimeError):
        with Outputs() as out:
            out.write_text(a, "new a\n")
            raise RuntimeError("the second output failed")
    assert a.read_text() == "old a\n" and not b.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "a.jsonl.tmp"]  # no temporary file left
    with Outputs() as out:
        out.write_text(a, "new a\n")
        out.write_text(b, "<html>")
        assert a.read_text() == "old a\n"  # nothing is replaced before the block ends
    assert a.read_text() == "new a\n" and b.read_text() == "<html>"
    assert (tmp_path / "a.jsonl.tmp").read_text() == "the user's own file\n"


def test_an_output_that_is_an_input_is_refused_by_identity(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("precious\n")
    (tmp_path / "sub").mkdir()
    os.link(src, tmp_path / "hard.jsonl")
    os.symlink(src, tmp_path / "soft.jsonl")
    for spelling in (src, tmp_path / "sub" / ".." / "in.jsonl", tmp_path / "hard.jsonl", tmp_path / "soft.jsonl"):
        with pytest.raises(OutputError, match=r"--output .* is also --input .*refusing to overwrite an input"):
            write_text(spelling, "clobbered", inputs=[("--input", src)], name="--output")
    assert src.read_text() == "precious\n"
    with pytest.raises(OutputError, match="--html .* is also --output"):
        check_distinct([("--output", tmp_path / "o"), ("--html", tmp_path / "sub" / ".." / "o")], [])


def test_new_files_get_the_usual_permissions(tmp_path):
    path = write_text(tmp_path / "new.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


# --------------------------------------------------------------------------------------------------------- appender

def test_appender_keeps_a_complete_last_line_and_cuts_a_torn_one(tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    log.write_text('{"step": 0}\n{"step": 1}')  # complete, only its newline is missing
    append_jsonl(log, [{"step": 2}])
    assert [r["step"] for _, r in iter_jsonl(log)] == [0, 1, 2] and not capsys.readouterr().err
    log.write_text('{"step": 0}\n{"step": 1, "lo')  # killed mid-line
    append_jsonl(log, [{"step": 1}])
    assert [r["step"] for _, r in iter_jsonl(log)] == [0, 1]
    assert "dropped an incomplete last line" in capsys.readouterr().err
    log.write_text('{"step": 0}\n')
    repair_tail(log)
    assert log.read_text() == '{"step": 0}\n'


# ------------------------------------------------------------------------------------------------------------- lock

def _try_lock(path: str, queue) -> None:
    try:
        with lock_dir(path, "hicra study"):
            queue.put("locked")
    except OutputError as e:
        queue.put(str(e))


def test_a_second_process_gets_one_clear_line(tmp_path):
    out = tmp_path / "study"
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    with lock_dir(out, "hicra study"):
        proc = ctx.Process(target=_try_lock, args=(str(out), queue))
        proc.start()
        proc.join(30)
        assert queue.get(timeout=5) == f"{out} is in use by another hicra study (pid {os.getpid()})"
    proc = ctx.Process(target=_try_lock, args=(str(out), queue))
    proc.start()
    proc.join(30)
    assert queue.get(timeout=5) == "locked" and list(out.iterdir()) == []


def test_yaml_module_is_untouched():
    """The strict loader is a subclass: plain ``yaml.safe_load`` elsewhere keeps its behaviour."""
    assert yaml.safe_load("a: &x 1\nb: *x\n") == {"a": 1, "b": 1}
