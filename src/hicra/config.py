"""Dataclass configs that map 1:1 to YAML files and CLI flags (defaults → ``--config FILE`` → flags).

Every option is one dataclass field whose ``metadata["help"]`` is its documentation; :func:`add_arguments` turns the
fields into argparse flags (``--field-name``) and :func:`build_config` merges defaults, YAML and explicit flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import yaml

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


def _parser_for(tp: Any):
    tp = _unwrap_optional(tp)
    if get_origin(tp) is list:
        item = get_args(tp)[0] if get_args(tp) else str
        return lambda s: [item(x) for x in s.split(",") if x != ""]
    if get_origin(tp) is Literal:
        return str
    return tp if tp in (int, float, str) else str


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add one ``--flag`` per field of dataclass ``cls`` (defaults suppressed so only explicit flags override)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = _unwrap_optional(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        help_text = f"{f.metadata.get('help', '')} (default: {default!r})".replace("%", "%%")
        flag = "--" + f.name.replace("_", "-")
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text)
            continue
        choices = list(get_args(tp)) if get_origin(tp) is Literal else None
        metavar = "A,B,..." if get_origin(tp) is list else None
        parser.add_argument(flag, type=_parser_for(tp), choices=choices, metavar=metavar, default=argparse.SUPPRESS,
                            dest=f.name, help=help_text)


def _coerce(cls: type, name: str, value: Any, where: str) -> Any:
    tp = _unwrap_optional(typing.get_type_hints(cls)[name])
    if value is None:
        return None
    if get_origin(tp) is Literal and value not in get_args(tp):
        raise ConfigError(f"{where}: field '{name}' is {value!r}; valid: {', '.join(map(str, get_args(tp)))}")
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if get_origin(tp) is list and isinstance(value, str):
        return _parser_for(tp)(value)
    expected = {int: int, float: float, str: str, bool: bool}.get(tp)
    if expected and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
        raise ConfigError(f"{where}: field '{name}' must be {expected.__name__}, got {value!r}")
    return value


def load_yaml(path: str | Path, cls: type) -> dict[str, Any]:
    """The fields set in a YAML config file, checked against ``cls``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(f"{path}: {line}invalid YAML") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping of field: value")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(doc) - names)
    if unknown:
        raise ConfigError(f"{path}: unknown field '{unknown[0]}' (see --help for the valid fields)")
    return {k: _coerce(cls, k, v, str(path)) for k, v in doc.items()}


def build_config(cls: type[T], args: argparse.Namespace, base: dict[str, Any] | None = None) -> T:
    """``cls`` from defaults, then ``base`` (e.g. a preset), then ``args.config`` YAML, then explicit flags."""
    values: dict[str, Any] = dict(base or {})
    config_path = getattr(args, "config", None)
    if config_path:
        values.update(load_yaml(config_path, cls))
    names = {f.name for f in dataclasses.fields(cls)}
    values.update({k: v for k, v in vars(args).items() if k in names})
    try:
        return cls(**{k: _coerce(cls, k, v, "flags") for k, v in values.items()})
    except (TypeError, ValueError) as e:
        raise ConfigError(str(e)) from None


def to_yaml(config: Any) -> str:
    """The YAML document that :func:`load_yaml` reads back into an equal config."""
    return yaml.safe_dump(dataclasses.asdict(config), sort_keys=False)
