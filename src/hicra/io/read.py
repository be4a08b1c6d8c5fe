"""The one reader of hicra's JSON, JSON Lines, YAML and CSV inputs (see :mod:`hicra.io`)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

import yaml

MAX_DEPTH = 64  # nesting of lists/objects in one document or line
MAX_INT = 2 ** 63  # integers must satisfy -MAX_INT <= n < MAX_INT (int64, what numpy and torch hold)
MAX_LINE = 1 << 28  # bytes in one JSONL/CSV line (256 MiB)
MAX_CELL = 1 << 26  # characters in one CSV cell (64 MiB)
BOM = "\ufeff"
SHAPES = {dict: "a mapping (key: value)", list: "a list"}

PathLike = str | os.PathLike


class DataError(ValueError):
    """A file that cannot be read as what it should be; the message is ``FILE[:LINE]: problem``."""


def _where(path: PathLike, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def _depth_ok(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests lists/objects at most ``limit`` deep (only containers are visited)."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return False
        children = v.values() if isinstance(v, dict) else v
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return True


class _Problem(Exception):
    """A parse problem raised inside a decoder hook; ``token`` is the text that locates it in the document."""

    def __init__(self, problem: str, token: str, last: bool = False):
        super().__init__(problem)
        self.token, self.last = token, last

    def line(self, text: str) -> int:
        """The line of ``text`` holding the token (the last such line for a duplicate key), else 1."""
        lines = [i for i, ln in enumerate(text.splitlines(), 1) if self.token in ln]
        return (lines[-1] if self.last else lines[0]) if lines else 1


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:21] + "..."


def _number_problem(value: Any, exact: bool = False) -> str | None:
    """Why a decoded value holds a number the reader refuses (not finite, or an integer beyond ±2**63), else None.
    A list of numbers is checked through its minimum and maximum (C speed) unless ``exact`` (it may hold a NaN,
    which min/max cannot see): then element by element, as are lists of mixed types."""
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        spelt = "NaN" if value != value else "Infinity" if value > 0 else "-Infinity"
        return f"{spelt} is not a finite number (numbers must be finite; 1e309 and beyond overflow to Infinity)"
    if isinstance(value, int):
        return None if -MAX_INT <= value < MAX_INT else f"integer {_short(str(value))} is too large (limit ±2**63)"
    if not isinstance(value, list) or not value:
        return None
    if not exact:
        try:
            low, high = min(value), max(value)
            if isinstance(low, (int, float)):
                return _number_problem(low) or _number_problem(high)
            if isinstance(low, str):
                return None  # a list of strings only
        except TypeError:  # mixed types
            pass
    return next((p for v in value if isinstance(v, (float, int, list)) and (p := _number_problem(v, exact))), None)


class _Decoder(json.JSONDecoder):
    """JSON with the reader's rules: no duplicate keys, finite numbers, integers within ±2**63. Numbers are parsed
    by the C scanner and checked per object, so a problem is reported with the key that holds it."""

    def __init__(self) -> None:
        self.constants = False  # whether NaN/Infinity literals were seen (lists are then checked exactly)
        super().__init__(object_pairs_hook=self._pairs, parse_constant=self._constant)

    def _pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise _Problem(f"duplicate key {k!r}", json.dumps(k, ensure_ascii=False), last=True)
            problem = _number_problem(v, self.constants)
            if problem:
                raise _Problem(f"field {k!r}: {problem}", json.dumps(k, ensure_ascii=False))
            out[k] = v
        return out

    def _constant(self, name: str) -> float:
        self.constants = True
        return float(name.replace("Infinity", "inf"))

    def decode(self, text: str) -> Any:  # type: ignore[override]
        value = super().decode(text)
        problem = _number_problem(value, self.constants)
        if problem:
            raise _Problem(problem, "")
        return value


def _container(value: Any) -> bool:
    return isinstance(value, (dict, list))


def parse_json(text: str, path: PathLike, line: int | None = None) -> Any:
    """One JSON value from ``text`` (a whole file, or line ``line`` of a JSONL file) under the reader's rules."""
    text = text.removeprefix(BOM)
    try:
        value = _Decoder().decode(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{_where(path, line or e.lineno)}: invalid JSON ({e.msg})") from None
    except _Problem as e:
        raise DataError(f"{_where(path, line or e.line(text))}: {e}") from None
    except RecursionError:
        raise DataError(f"{_where(path, line or 1)}: nesting deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # Python's own limit on the digits of an integer
        raise DataError(f"{_where(path, line or 1)}: integer too large (limit ±2**63)") from None
    if _container(value) and text.count("[") + text.count("{") > MAX_DEPTH and not _depth_ok(value):
        raise DataError(f"{_where(path, line or 1)}: nesting deeper than {MAX_DEPTH} levels")
    return value


def read_text(path: PathLike) -> str:
    """The text of ``path``: UTF-8, a leading BOM stripped; a missing file or other encoding is a :class:`DataError`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a file") from None
    try:
        return data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not UTF-8 text") from None


def _check_shape(value: Any, shape: type | None, path: PathLike, kind: str) -> Any:
    if shape is not None and not isinstance(value, shape):
        got = "empty" if value is None else type(value).__name__
        raise DataError(f"{path}:1: expected {SHAPES.get(shape, shape.__name__)} at the top level of the {kind} "
                        f"document, got {got}")
    return value


def read_json(path: PathLike, shape: type | None = dict) -> Any:
    """The JSON document of ``path``; its top-level value must be a ``shape`` (``None``: anything)."""
    return _check_shape(parse_json(read_text(path), path), shape, path, "JSON")


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases, with string keys only, no duplicate keys, finite numbers and bounded
    integers and nesting."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _YamlProblem(event.start_mark, "aliases (*name) are not allowed")
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise _YamlProblem(self.peek_event().start_mark, f"nesting deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        self.flatten_mapping(node)
        seen: set[str] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise _YamlProblem(key_node.start_mark, f"key {key!r} is not a string (quote it)")
            if key in seen:
                raise _YamlProblem(key_node.start_mark, f"duplicate key {key!r}")
            seen.add(key)
        mapping = super().construct_mapping(node, deep=deep)
        for key_node, value_node in node.value:
            value = mapping[key_node.value] if key_node.value in mapping else None
            if isinstance(value, float) and not math.isfinite(value):
                self._bad = None
                raise _YamlProblem(value_node.start_mark, f"field {key_node.value!r}: {_short(value_node.value)} is "
                                   "not a finite number (numbers must be finite)")
        return mapping

    def construct_yaml_int(self, node):  # type: ignore[override]
        value = super().construct_yaml_int(node)
        if not -MAX_INT <= value < MAX_INT:
            raise _YamlProblem(node.start_mark, f"integer {_short(node.value)} is too large (limit ±2**63)")
        return value

    def construct_yaml_float(self, node):  # type: ignore[override]
        value = super().construct_yaml_float(node)
        if not math.isfinite(value) and getattr(self, "_bad", None) is None:
            self._bad = node  # reported with its key by construct_mapping, else by parse_yaml
        return value


_SafeLoader.add_constructor("tag:yaml.org,2002:int", _SafeLoader.construct_yaml_int)
_SafeLoader.add_constructor("tag:yaml.org,2002:float", _SafeLoader.construct_yaml_float)


class _YamlProblem(Exception):
    def __init__(self, mark: Any, problem: str):
        super().__init__(problem)
        self.line = mark.line + 1 if mark is not None else 1


def parse_yaml(text: str, path: PathLike) -> Any:
    """One YAML document from ``text`` under the reader's rules (a superset of JSON: JSON documents load too)."""
    text = text.removeprefix(BOM)
    loader = None
    try:
        loader = _SafeLoader(text)  # the reader checks the characters here
        value = loader.get_single_data()
        bad = getattr(loader, "_bad", None)
        if bad is not None:
            raise _YamlProblem(bad.start_mark, f"{_short(bad.value)} is not a finite number (numbers must be finite)")
        return value
    except _YamlProblem as e:
        raise DataError(f"{path}:{e.line}: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            line = mark.line + 1
        else:  # a character the YAML reader refuses: located by its position
            line = text[:getattr(e, "position", 0)].count("\n") + 1
        problem = " ".join(str(getattr(e, "problem", None) or getattr(e, "reason", None) or "invalid YAML").split())
        raise DataError(f"{path}:{line}: invalid YAML ({problem})") from None
    except RecursionError:
        raise DataError(f"{path}: nesting deeper than {MAX_DEPTH} levels") from None
    except ValueError as e:  # e.g. Python's own limit on integer digits
        raise DataError(f"{path}: {e}") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: PathLike, shape: type | None = dict, empty: Any = None) -> Any:
    """The YAML document of ``path``; an empty document is ``empty`` (when given); the top-level value must be a
    ``shape`` (``None``: anything)."""
    value = parse_yaml(read_text(path), path)
    if value is None and empty is not None:
        return empty
    return _check_shape(value, shape, path, "YAML")


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, raw line)`` of ``path``, each at most :data:`MAX_LINE` bytes."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, expected a file") from None
    with f:
        lineno = 0
        while raw := f.readline(MAX_LINE + 1):
            lineno += 1
            if len(raw) > MAX_LINE:
                raise DataError(f"{path}:{lineno}: line longer than {MAX_LINE} bytes")
            yield lineno, raw


def iter_jsonl(path: PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSON Lines file; every line must hold an object."""
    path = Path(path)
    for lineno, raw in _lines(path):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{path}:{lineno}: not UTF-8 text") from None
        if lineno == 1:
            line = line.removeprefix(BOM)
        if not line.strip():
            continue
        obj = parse_json(line, path, lineno)
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
        yield lineno, obj


def read_csv(path: PathLike, required: Sequence[str] = ()) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and ``(line number, row)`` of a CSV file with a header line; duplicate or missing columns and rows with
    more cells than the header are errors."""
    path = Path(path)
    text = read_text(path)
    old = csv.field_size_limit()
    csv.field_size_limit(MAX_CELL)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise DataError(f"{path}: empty file, expected a header line")
            header = [h.strip() for h in header]
            dup = sorted({h for h in header if header.count(h) > 1})
            if dup:
                raise DataError(f"{path}:1: duplicate column {dup[0]!r}")
            missing = [c for c in required if c not in header]
            if missing:
                raise DataError(f"{path}:1: missing column {missing[0]!r}")
            rows = []
            for cells in reader:
                lineno = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > len(header):
                    raise DataError(f"{path}:{lineno}: {len(cells)} cells but the header has {len(header)} columns")
                rows.append((lineno, dict(zip(header, cells + [""] * (len(header) - len(cells))))))
        except csv.Error as e:
            raise DataError(f"{path}:{reader.line_num}: invalid CSV ({e})") from None
    finally:
        csv.field_size_limit(old)
    return header, rows
