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
