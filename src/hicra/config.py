"""Dataclass configs that map 1:1 to YAML files and CLI flags (defaults → ``--config FILE`` → flags).

Every option is one dataclass field whose ``metadata["help"]`` is its documentation; :func:`add_arguments` turns the
fields into argparse flags (``--field-name``) and :func:`build_config` merges defaults, YAML and explicit flags.

Values are checked in one place, whether they come from YAML or flags (:func:`coerce_values`): the annotated type,
the shape of lists and mappings (``list[str]``, ``dict[str, dict]``), every float finite, and the range a field
declares with metadata keys ``ge``/``gt``/``le``/``lt`` (``option(0.2, "…", ge=0, lt=1)``; a subclass bounds fields
it inherits through a ``FIELD_BOUNDS`` class attribute). :func:`check_fields` repeats the numeric checks on a built
config. Errors name the flag (``--top-p``) or the file and field.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import yaml

from hicra.io import DataError, read_yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A bad config file or value; the message names the file and field."""


def option(default: Any, help: str, **kwargs: Any) -> Any:
    """A config field with its help text (lists use ``default_factory``)."""
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata={"help": help, **kwargs})
    return dataclasses.field(default=default, metadata={"help": help, **kwargs})


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
                raise
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
    ``metadata["choices"]`` restricts a string field like a ``Literal`` does.
    """
    default = f.default if f.default is not dataclasses.MISSING else (
        f.default_factory() if f.default_factory is not dataclasses.MISSING else None)  # type: ignore[misc]
    text = re.sub(r"(?<!%)%(?!%)", "%%", " ".join(str(f.metadata.get("help", "")).split()))
    help_text = argparse.SUPPRESS if hidden else f"{text} (default: {default!r})"
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
                       metavar=metavar, help=help_text)


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add one ``--flag`` per field of dataclass ``cls`` (see :func:`add_field`)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        add_field(parser, f, hints[f.name])


BOUND_KEYS = ("ge", "gt", "le", "lt")
_BOUND_TEST = {"ge": lambda v, b: v >= b, "gt": lambda v, b: v > b, "le": lambda v, b: v <= b,
               "lt": lambda v, b: v < b}
_BOUND_SIGN = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def field_bounds(cls: type, name: str) -> dict[str, float]:
    """The range of field ``name``: its ``option(..., ge=, gt=, le=, lt=)`` metadata, plus ``cls.FIELD_BOUNDS[name]``
    (how a subclass bounds fields it inherits without redeclaring them)."""
    f = {x.name: x for x in dataclasses.fields(cls)}.get(name)
    bounds = {k: f.metadata[k] for k in BOUND_KEYS if f is not None and k in f.metadata}
    bounds.update(getattr(cls, "FIELD_BOUNDS", {}).get(name, {}))
    return bounds


def _range_text(bounds: dict[str, float]) -> str:
    low = next(((k, bounds[k]) for k in ("ge", "gt") if k in bounds), None)
    high = next(((k, bounds[k]) for k in ("le", "lt") if k in bounds), None)
    if low and high:
        return f"in {'[' if low[0] == 'ge' else '('}{low[1]}, {high[1]}{']' if high[0] == 'le' else ')'}"
    k, b = low or high  # type: ignore[misc]
    return f"{_BOUND_SIGN[k]} {b}"


def _label(where: str, name: str) -> str:
    """How an error names a field: ``--flag-name`` for flags, ``FILE: field 'name'`` for a file."""
    return "--" + name.replace("_", "-") if where == "flags" else f"{where}: field '{name}'"


def check_number(label: str, value: Any, bounds: dict[str, float]) -> None:
    """Raise :class:`ConfigError` if numeric ``value`` is NaN/±inf or outside ``bounds`` (keys ge, gt, le, lt)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{label} must be a finite number, got {value}")
    if bounds and not all(_BOUND_TEST[k](value, b) for k, b in bounds.items()):
        raise ConfigError(f"{label} must be {_range_text(bounds)}, got {value}")


def check_fields(config: Any) -> None:
    """Every float field of dataclass ``config`` finite and every numeric field within its bounds."""
    for f in dataclasses.fields(config):
        check_number(f"field '{f.name}'", getattr(config, f.name), field_bounds(type(config), f.name))


def _check_structure(tp: Any, value: Any, label: str) -> None:
    """A list/dict value has the annotated shape: ``list[T]`` items are T, ``dict[K, V]`` values are V."""
    origin = get_origin(tp) or tp
    kind = {list: "a list", dict: "a mapping"}[origin]
    if not isinstance(value, origin):
        raise ConfigError(f"{label} must be {kind}, got {value!r}")
    args = get_args(tp)
    inner = args[0] if origin is list and args else args[1] if len(args) == 2 else None
    inner_type = get_origin(inner) or inner
    if inner_type in (str, int, float, dict, list):
        items = value if origin is list else value.values()
        ok = (int, float) if inner_type is float else inner_type
        for item in items:
            if not isinstance(item, ok) or (isinstance(item, bool) and inner_type is not bool):
                raise ConfigError(f"{label} must hold {inner_type.__name__} values, got {item!r}")


def _coerce(cls: type, name: str, value: Any, where: str) -> Any:
    tp = _unwrap_optional(typing.get_type_hints(cls)[name])
    label = _label(where, name)
    if value is None:
        return None
    f = {x.name: x for x in dataclasses.fields(cls)}[name]
    choices = get_args(tp) if get_origin(tp) is Literal else f.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{label} is {value!r}; valid: {', '.join(map(str, choices))}")
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if get_origin(tp) is list and isinstance(value, str):
        value = value_parser(field_kind(tp))(value)
    if (get_origin(tp) or tp) in (list, dict):
        _check_structure(tp, value, label)
    expected = {int: int, float: float, str: str, bool: bool}.get(tp)
    if expected and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
        raise ConfigError(f"{label} must be {expected.__name__}, got {value!r}")
    check_number(label, value, field_bounds(cls, name))
    return value


def coerce_values(cls: type, values: dict[str, Any], where: str) -> dict[str, Any]:
    """``values`` checked field by field against ``cls`` (types, list/dict shapes, finite numbers, bounds);
    ``where`` names their origin in errors (a file path, or ``"flags"``)."""
    return {k: _coerce(cls, k, v, where) for k, v in values.items()}


def load_yaml(path: str | Path, cls: type) -> dict[str, Any]:
    """The fields set in a YAML config file, checked against ``cls``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        doc = read_yaml(path, empty={})
    except DataError as e:
        raise ConfigError(str(e)) from None
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(doc) - names)
    if unknown:
        raise ConfigError(f"{path}: unknown field '{unknown[0]}' (see --help for the valid fields)")
    return coerce_values(cls, doc, str(path))


def build_config(cls: type[T], args: argparse.Namespace, base: dict[str, Any] | None = None) -> T:
    """``cls`` from defaults, then ``base`` (e.g. a preset), then ``args.config`` YAML, then explicit flags."""
    values: dict[str, Any] = dict(base or {})
    config_path = getattr(args, "config", None)
    if config_path:
        values.update(load_yaml(config_path, cls))
    names = {f.name for f in dataclasses.fields(cls)}
    values.update(coerce_values(cls, {k: v for k, v in vars(args).items() if k in names}, "flags"))
    try:
        config = cls(**values)
    except (TypeError, ValueError) as e:
        raise ConfigError(str(e)) from None
    check_fields(config)
    return config


def to_yaml(config: Any) -> str:
    """The YAML document that :func:`load_yaml` reads back into an equal config."""
    return yaml.safe_dump(dataclasses.asdict(config), sort_keys=False)
