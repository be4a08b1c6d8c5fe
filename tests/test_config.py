"""One field → flag mechanism for every command (hicra.config)."""

from typing import Literal, Optional, Union

from hicra.config import field_kind, value_parser


def parse(tp, text):
    return value_parser(field_kind(tp))(text)


def test_values_follow_the_annotation():
    assert parse(list[int], "1,4,8") == [1, 4, 8]
    assert parse(Optional[int], "none") is None and parse(Optional[int], "3") == 3
    assert parse(Optional[str], "none") == "none"
    assert parse(dict, '{"a": {"b": 1}}') == {"a": {"b": 1}}
    assert parse(Union[None, str, list[str]], "none") == "none"  # report_to="none"
    assert parse(Union[None, str, list[str]], "tensorboard,wandb") == ["tensorboard", "wandb"]
    assert parse(Optional[list[float]], "none") is None
    assert field_kind(Literal["a", "b"]).choices == ("a", "b")
    assert field_kind(bool).name == "bool"


# ---------------------------------------------------------------------------------------- values checked centrally
import dataclasses  # noqa: E402
import math  # noqa: E402
from argparse import Namespace  # noqa: E402

import pytest  # noqa: E402

from hicra.config import ConfigError, build_config, load_yaml, option  # noqa: E402


@dataclasses.dataclass
class Bounded:
    rate: float = option(0.5, "a rate", ge=0, lt=1)
    steps: int = option(3, "steps", ge=1)
    free: float = option(1.0, "any finite number")
    names: list[str] = option(["a"], "names")
    table: dict[str, dict] = option({}, "nested mapping")
    count: int | str = option("auto", "auto or N", ge=1)


@pytest.mark.parametrize("flags, message", [
    ({"free": math.nan}, "--free must be a finite number, got nan"),
    ({"free": -math.inf}, "--free must be a finite number, got -inf"),
    ({"rate": 1.0}, "--rate must be in [0, 1), got 1.0"),
    ({"rate": -0.1}, "--rate must be in [0, 1), got -0.1"),
    ({"steps": 0}, "--steps must be >= 1, got 0"),
    ({"count": 0}, "--count must be >= 1, got 0"),
    ({"table": "5"}, "--table must be a mapping, got '5'"),
    ({"table": {"x": 5}}, "--table must hold dict values, got 5"),
])
def test_flags_must_be_finite_in_range_and_well_shaped(flags, message):
    with pytest.raises(ConfigError) as e:
        build_config(Bounded, Namespace(**flags))
    assert str(e.value) == message


@pytest.mark.parametrize("text, message", [
    ("rate: 2\n", "field 'rate' must be in [0, 1), got 2.0"),
    ("names: 5\n", "field 'names' must be a list, got 5"),
    ("names: [1, 2]\n", "field 'names' must hold str values, got 1"),
    ("table: 5\n", "field 'table' must be a mapping, got 5"),
    ("table: {x: 5}\n", "field 'table' must hold dict values, got 5"),
])
def test_yaml_values_are_checked_like_flags(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_yaml(path, Bounded)
    assert str(e.value) == f"{path}: {message}"


def test_in_range_values_and_int_or_str_fields_parse():
    config = build_config(Bounded, Namespace(rate=0.0, steps=1, count=parse(int | str, "auto")))
    assert (config.rate, config.steps, config.count) == (0.0, 1, "auto")
    assert parse(int | str, "4") == 4
