"""verl 0.9.1's own dump function still writes tests/data/verl_dump byte for byte (the main suite reads that dump)."""

from __future__ import annotations

from pathlib import Path

from dump_fixture import write_dump

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "verl_dump"


def test_verl_writes_the_committed_dump(tmp_path):
    written = write_dump(tmp_path)
    assert [p.name for p in written] == sorted(p.name for p in FIXTURE.glob("*.jsonl")) == ["1.jsonl", "2.jsonl"]
    for path in written:
        assert path.read_bytes() == (FIXTURE / path.name).read_bytes(), path.name
