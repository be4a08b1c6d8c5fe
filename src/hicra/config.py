"""Dataclass configs that map 1:1 to YAML files and CLI flags (defaults → ``--config FILE`` → flags).

Every option is one dataclass field whose ``metadata["help"]`` is its documentation; :func:`add_arguments` turns the
fields into argparse flags (``--field-name``) and :func:`build_config` merges defaults, YAML and explicit flags.

Values are checked in one place, whether they come from a preset, YAML, flags or Python (:func:`coerce_values`,
:func:`check_fields`), against what each field declares once:

- its annotated type and the shape of lists and mappings (``list[str]``, ``dict[str, dict]``);
- ``null``/``None`` only for a field annotated ``Optional`` (or whose default is ``None``);
- every float finite; every int within 64 bits; the range in metadata ``ge``/``gt``/``le``/``lt``
  (``option(0.2, "…", ge=0, lt=1)``, applied to each item of a list; a subclass bounds fields it inherits through a
  ``FIELD_BOUNDS`` class attribute; seeds use :data:`SEED`, 0 … 2**32 − 1);
- ``choices`` (or a ``Literal``), ``unique=True`` for lists, and ``check=FUNC`` for values naming something
  (a benchmark, a dataset, a URL): ``FUNC(value)`` raises ``ValueError`` with the reason.

:func:`merge_values` is the one merge of option layers (defaults < presets < YAML files < flags). Errors are one line
naming the flag (``--top-p``) or the file and field.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import re
import types
import typing
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import yaml

from hicra.io import DataError, read_yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A bad config file or value; the message names the file and field."""


SEED = {"ge": 0, "le": 2**32 - 1}  # the range of every seed (numpy, torch and reasoning-gym all accept it)
INT_RANGE = {"ge": -(2**63), "le": 2**63 - 1}  # every int field fits 64 bits unless it declares a narrower range


def check_url(value: str) -> None:
    """An http(s) URL without blanks or control characters (empty = not set)."""
    if not value:
        return
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(f"must be a URL without spaces or control characters, got {value!r}")
    try:
        netloc = urllib.parse.urlsplit(value).netloc
    except ValueError as e:
        raise ValueError(f"is not a valid URL ({e}): {value!r}") from None
    if not netloc:
        raise ValueError(f"names no host: {value!r}")


def option(default: Any, help: str, **kwargs: Any) -> Any:
    """A config field with its help text (lists use ``default_factory``)."""
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata={"help": help, **kwargs})
    return dataclasses.field(default=default, metadata={"help": help, **kwargs})


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.lru_cache(maxsize=None)
def _fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


@dataclasses.dataclass(frozen=True)
class FieldKind:
    """How a field's annotation reads from the command line."""

    name: str  # bool | int | float | str | list | dict
    optional: bool  # None is allowed: "none"/"null" parses to None (except for str)
    admits_str: bool  # a union that also takes a plain string: a list flag given "none" stays that word
    choices: tuple[Any, ...] | None = None  # a Literal's values
    item: type = str  # list item type


def field_kind(tp: Any) -> FieldKind:
    """The :class:`FieldKind` of annotation ``tp`` (unions, Optional, Literal, list[T], dict)."""
    args = get_args(tp) if get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
    optional = type(None) in args
    args = tuple(a for a in args if a is not type(None))
    origins = [get_origin(a) or a for a in args]
    for a in args:
        if get_origin(a) is Literal:
            return FieldKind("str", optional, False, get_args(a))
    for kind in (bool, list, dict, int, float):
        if kind in origins:
            item_args = get_args(args[origins.index(kind)]) if kind is list else ()
            return FieldKind(kind.__name__, optional, str in origins, None, item_args[0] if item_args else str)
    return FieldKind("str", optional, False)


def value_parser(kind: FieldKind):
    """The argparse ``type`` callable of a field of this kind (lists are comma-separated, dicts JSON objects)."""
    def parse(text: str) -> Any:
        low = text.lower()
        if kind.name == "list":
            if low == "none" and (kind.admits_str or kind.optional):  # report_to="none" switches loggers off
                return text if kind.admits_str else None
            return [kind.item(x) for x in text.split(",") if x != ""]
        if kind.optional and low in ("none", "null") and kind.name != "str":
            return None
        if kind.name in ("int", "float"):
            try:
                return int(text) if kind.name == "int" else float(text)
            except ValueError:
                if kind.admits_str:  # e.g. samples: int | str takes a number or "auto"
                    return text
                shown = text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"
                raise argparse.ArgumentTypeError(f"invalid {kind.name} value: {shown!r}") from None
        if kind.name == "dict" and text.lstrip().startswith("{"):
            try:
                return json.loads(text)
            except json.JSONDecodeError as e:
                raise argparse.ArgumentTypeError(f"invalid JSON object: {e.msg}") from None
        return text
    parse.__name__ = kind.name
    return parse


def add_field(group: Any, f: dataclasses.Field, tp: Any, hidden: bool = False) -> None:
    """Add the ``--field-name`` flag of dataclass field ``f`` (annotation ``tp``) to a parser or argument group.

    Defaults are suppressed so that only explicit flags override; ``hidden`` keeps the flag out of ``--help``;
    ``metadata["choices"]`` restricts a string field like a ``Literal`` does; ``metadata["required"]`` makes the
    flag mandatory.
    """
    default = f.default if f.default is not dataclasses.MISSING else (
        f.default_factory() if f.default_factory is not dataclasses.MISSING else None)  # type: ignore[misc]
    text = re.sub(r"(?<!%)%(?!%)", "%%", " ".join(str(f.metadata.get("help", "")).split()))
    required = bool(f.metadata.get("required"))
    help_text = argparse.SUPPRESS if hidden else text + (" (required)" if required else f" (default: {default!r})")
    flag = "--" + f.name.replace("_", "-")
    kind = field_kind(tp)
    if kind.name == "bool":
        group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                           help=help_text)
        return
    choices = kind.choices or f.metadata.get("choices")
    metavar = ("{" + ",".join(map(str, choices)) + "}" if choices else
               "A,B,..." if kind.name == "list" else kind.name.upper())
    group.add_argument(flag, dest=f.name, type=value_parser(kind), default=argparse.SUPPRESS, choices=choices,
                       metavar=metavar, help=help_text, required=required)


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add one ``--flag`` per field of dataclass ``cls`` (see :func:`add_field`)."""
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        add_field(parser, f, hints[f.name])


BOUND_KEYS = ("ge", "gt", "le", "lt")
_BOUND_TEST = {"ge": lambda v, b: v >= b, "gt": lambda v, b: v > b, "le": lambda v, b: v <= b,
               "lt": lambda v, b: v < b}
_BOUND_SIGN = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def field_bounds(cls: type, name: str) -> dict[str, float]:
    """The range of field ``name``: its ``option(..., ge=, gt=, le=, lt=)`` metadata, plus ``cls.FIELD_BOUNDS[name]``
    (how a subclass bounds fields it inherits without redeclaring them); an int field (or list of ints) without a
    lower or upper bound gets that side of :data:`INT_RANGE`."""
    f = _fields(cls).get(name)
    bounds = {k: f.metadata[k] for k in BOUND_KEYS if f is not None and k in f.metadata}
    bounds.update(getattr(cls, "FIELD_BOUNDS", {}).get(name, {}))
    kind = field_kind(_hints(cls)[name]) if f is not None else None
    if kind is not None and (kind.name == "int" or (kind.name == "list" and kind.item is int)):
        if "ge" not in bounds and "gt" not in bounds:
            bounds["ge"] = INT_RANGE["ge"]
        if "le" not in bounds and "lt" not in bounds:
            bounds["le"] = INT_RANGE["le"]
    return bounds


def _range_text(bounds: dict[str, float]) -> str:
    low = next(((k, bounds[k]) for k in ("ge", "gt") if k in bounds), None)
    high = next(((k, bounds[k]) for k in ("le", "lt") if k in bounds), None)
    if low and high:
        return f"in {'[' if low[0] == 'ge' else '('}{low[1]}, {high[1]}{']' if high[0] == 'le' else ')'}"
    k, b = low or high  # type: ignore[misc]
    return f"{_BOUND_SIGN[k]} {b}"


def _label(where: str, name: str) -> str:
    """How an error names a field: ``--flag-name`` for flags, ``PREFIX.name`` for a dotted prefix
    (``algorithm.hicra.``), ``field 'name'`` for a built config, ``FILE: field 'name'`` for a file."""
    if where == "flags":
        return "--" + name.replace("_", "-")
    if where.endswith("."):
        return where + name
    return f"field '{name}'" if where == "" else f"{where}: field '{name}'"


def _shown(value: Any) -> str:
    """``value`` for an error message: a huge integer by its size, not its thousands of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**21:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    return str(value)


def check_number(label: str, value: Any, bounds: dict[str, float]) -> None:
    """Raise :class:`ConfigError` if numeric ``value`` is NaN/±inf or outside ``bounds`` (keys ge, gt, le, lt)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{label} must be a finite number, got {value}")
    if bounds and not all(_BOUND_TEST[k](value, b) for k, b in bounds.items()):
        shown = {k: b for k, b in bounds.items() if INT_RANGE.get(k) != b or not _BOUND_TEST[k](value, b)}
        raise ConfigError(f"{label} must be {_range_text(shown)}, got {_shown(value)}")


def check_fields(config: Any, where: str = "") -> None:
    """Every field of dataclass ``config`` as :func:`coerce_values` checks it (types, null, bounds, choices, names);
    for configs built in Python. ``where`` prefixes field names in errors (e.g. ``"algorithm.hicra."``)."""
    cls = type(config)
    for name, f in _fields(cls).items():
        if f.init:
            _coerce(cls, name, getattr(config, name), where, built=True)


def _check_structure(tp: Any, value: Any, label: str) -> None:
    """A list/dict value has the annotated shape: ``list[T]`` items are T, ``dict[K, V]`` values are V."""
    origin = get_origin(tp) or tp
    kind = {list: "a list", dict: "a mapping"}[origin]
    if not isinstance(value, origin):
        raise ConfigError(f"{label} must be {kind}, got {value!r}")
    args = get_args(tp)
    if origin is dict and args and args[0] is str:
        bad = next((k for k in value if not isinstance(k, str)), None)
        if bad is not None:
            raise ConfigError(f"{label}: key {bad!r} is not a string")
    inner = args[0] if origin is list and args else args[1] if len(args) == 2 else None
    inner_type = get_origin(inner) or inner
    if inner_type in (str, int, float, dict, list):
        items = value if origin is list else value.values()
        ok = (int, float) if inner_type is float else inner_type
        for item in items:
            if not isinstance(item, ok) or (isinstance(item, bool) and inner_type is not bool):
                raise ConfigError(f"{label} must hold {inner_type.__name__} values, got {item!r}")


def nullable(cls: type, name: str) -> bool:
    """Whether field ``name`` of ``cls`` may be ``None``: annotated ``Optional`` (or ``None`` is its default)."""
    return field_kind(_hints(cls)[name]).optional or _fields(cls)[name].default is None


def _coerce(cls: type, name: str, value: Any, where: str, built: bool = False) -> Any:
    tp = _unwrap_optional(_hints(cls)[name])
    label = _label(where, name)
    if value is None:
        if not nullable(cls, name):
            raise ConfigError(f"{label} must not be null (the field is not optional)")
        return None
    f = _fields(cls)[name]
    choices = get_args(tp) if get_origin(tp) is Literal else f.metadata.get("choices")
    if choices and not isinstance(value, (list, dict)) and value not in choices:
        raise ConfigError(f"{label} is {value!r}; valid: {', '.join(map(str, choices))}")
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if get_origin(tp) is list and isinstance(value, str) and not built:
        value = value_parser(field_kind(tp))(value)
    if (get_origin(tp) or tp) in (list, dict):
        _check_structure(tp, value, label)
    expected = {int: int, float: float, str: str, bool: bool}.get(tp)
    if expected and (not isinstance(value, (int, float) if built and expected is float else expected)
                     or (expected in (int, float) and isinstance(value, bool))):
        raise ConfigError(f"{label} must be {expected.__name__}, got {value!r}")
    bounds = field_bounds(cls, name)
    for item in value if isinstance(value, list) else [value]:
        check_number(label, item, bounds)
    if f.metadata.get("unique") and isinstance(value, list) and len(set(value)) != len(value):
        twice = next(v for i, v in enumerate(value) if v in value[:i])
        raise ConfigError(f"{label}: {twice} is listed twice")
    check = f.metadata.get("check")
    if check is not None:
        try:
            check(value)
        except ValueError as e:
            raise ConfigError(f"{label}: {e}") from None
    return value


def coerce_values(cls: type, values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``values`` checked field by field against ``cls`` (types, null, list/dict shapes, finite numbers, bounds,
    choices, names); ``where`` names their origin in errors (a file path, a preset, or ``"flags"``)."""
    names = _fields(cls)
    for key in values:
        if not isinstance(key, str):
            raise ConfigError(f"{where}: key {key!r} is not a string (keys are field names)")
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ConfigError(f"{where}: unknown field '{unknown[0]}' (see --help for the valid fields)")
    return {k: _coerce(cls, k, v, where) for k, v in values.items()}


def merge_values(cls: type, layers: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """The one merge of option layers, lowest precedence first (e.g. a preset, a resumed run's config.yaml, a
    ``--config`` file, the explicit flags): each ``(where, values)`` layer is checked against ``cls``."""
    merged: dict[str, Any] = {}
    for where, values in layers:
        merged.update(coerce_values(cls, values, where))
    return merged


def flag_values(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The fields of ``cls`` given as explicit flags in ``args`` (defaults are suppressed by :func:`add_field`)."""
    names = _fields(cls)
    return {k: v for k, v in vars(args).items() if k in names}


def load_yaml(path: str | Path, cls: type) -> dict[str, Any]:
    """The fields set in a YAML config file, checked against ``cls``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        doc = read_yaml(path, empty={})  # an empty file sets nothing; the top level must be a mapping
    except DataError as e:
        raise ConfigError(str(e)) from None
    return coerce_values(cls, doc, str(path))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def build_config(cls: type[T], args: argparse.Namespace) -> T:
    """``cls`` from defaults, then ``args.config`` YAML, then explicit flags (see :func:`merge_values`)."""
    config_path = getattr(args, "config", None)
    files = [(str(config_path), load_yaml(config_path, cls))] if config_path else []
    values = merge_values(cls, [*files, ("flags", flag_values(cls, args))])
    try:
        config = cls(**values)
    except (TypeError, ValueError) as e:
        raise ConfigError(str(e)) from None
    check_fields(config)
    return config


def to_yaml(config: Any) -> str:
    """The YAML document that :func:`load_yaml` reads back into an equal config."""
    return yaml.safe_dump(dataclasses.asdict(config), sort_keys=False)
