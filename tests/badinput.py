"""Shared check for bad-input tests: a command fails cleanly.

``assert_clean_failure(argv, tmp_path, capsys, mentions)`` runs ``hicra.cli.main(argv)`` in-process with ``tmp_path``
as the working directory and asserts that

- the exit status is not 0 (1 for a user error raised by a command, 2 for an argparse usage error);
- stderr holds exactly one non-empty line, ``hicra CMD: error: …``, with no traceback;
- that line contains every string of ``mentions`` (the file, line, field or value at fault);
- every file that existed under ``tmp_path`` before is byte-identical afterwards, and (unless ``new_files`` is true)
  no file was created.

Table-driven modules (``tests/test_bad_inputs*.py``) build their files under ``tmp_path`` and call it once per row.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

ERROR_LINE = re.compile(r"^hicra [a-z][a-z-]*( [a-z][a-z-]*)?: error: \S")


def snapshot(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Create ``files`` (relative path → text or bytes) under ``root``, with their parent folders."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def run_cli(argv: Sequence[str], cwd: Path) -> int:
    """``hicra.cli.main(argv)`` run in ``cwd``; an argparse ``SystemExit`` becomes its exit status."""
    from hicra.cli import main

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return int(main(list(argv)) or 0)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    finally:
        os.chdir(old)


def assert_clean_failure(argv: Sequence[str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                         mentions: Sequence[str] = (), *, new_files: bool = False) -> str:
    """Run ``hicra ARGV`` in ``tmp_path`` and assert a clean one-line failure (see the module docstring).

    Returns the error line.
    """
    before = snapshot(tmp_path)
    capsys.readouterr()  # drop what earlier setup printed
    status = run_cli(argv, tmp_path)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    shown = f"hicra {' '.join(argv)}\nstderr:\n{err}"
    assert status != 0, f"exit status 0 for bad input\n{shown}"
    assert "Traceback" not in err, shown
    assert len(lines) == 1, f"expected exactly one stderr line, got {len(lines)}\n{shown}"
    line = lines[0]
    assert ERROR_LINE.match(line), f"not of the form 'hicra CMD: error: MSG'\n{shown}"
    for text in mentions:
        assert str(text) in line, f"error line does not mention {text!r}\n{shown}"
    after = snapshot(tmp_path)
    changed = sorted(name for name, digest in before.items() if after.get(name) != digest)
    assert not changed, f"pre-existing files changed or removed: {changed}\n{shown}"
    if not new_files:
        created = sorted(set(after) - set(before))
        assert not created, f"files created by a failed run: {created}\n{shown}"
    return line
