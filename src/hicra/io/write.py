"""The one writer (all outputs of a command or none, never over an input), the appender of JSONL logs and caches,
and the directory lock (see :mod:`hicra.io`)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

import yaml

from hicra.io.read import BOM, PathLike

LOCK_NAME = ".hicra.lock"  # the lock file :func:`lock_dir` holds in a directory


class OutputError(ValueError):
    """An output that must not be written (it is an input of the command, or its directory is in use)."""


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether ``a`` and ``b`` are one file: by identity when both exist (hard and symbolic links included), else by
    their resolved paths."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_distinct(outputs: Iterable[tuple[str, PathLike]], inputs: Iterable[tuple[str, PathLike]]) -> None:
    """Refuse (:class:`OutputError`) an output that is one of the inputs or another output; names are the flags."""
    outputs, inputs = [(n, p) for n, p in outputs if p], [(n, p) for n, p in inputs if p]
    for i, (name, out) in enumerate(outputs):
        for other, src in inputs:
            if same_file(out, src):
                raise OutputError(f"{name} {out} is also {other} {src}: refusing to overwrite an input; "
                                  "write to another file")
        for other, prev in outputs[:i]:
            if same_file(out, prev):
                raise OutputError(f"{name} {out} is also {other} {prev}: give two different files")


def check_writable(path: PathLike) -> None:
    """Raise ``OSError`` naming ``path`` unless it can be written or created: its nearest existing ancestor must be
    a writable directory (an output under a regular file fails here, before any work is done)."""
    target = Path(path).absolute()
    ancestor = target
    while not ancestor.exists():
        ancestor = ancestor.parent
    if ancestor != target and not ancestor.is_dir():
        raise NotADirectoryError(f"{path}: cannot be created, {ancestor} is a file")
    if target.is_dir() and ancestor == target and not os.access(target, os.W_OK):
        raise PermissionError(f"{path}: cannot be written, no write permission")
    if not os.access(ancestor if ancestor.is_dir() else ancestor.parent, os.W_OK):
        raise PermissionError(f"{path}: cannot be written, no write permission on {ancestor}")


class Outputs:
    """The outputs of one command, written all or nothing::

        with Outputs(inputs=[("--input", src)]) as out:
            out.write_text(path_a, text, "--output")
            with out.open(path_b, "--html") as f: ...

    Each output goes to a unique temporary file beside it (``.NAME.XXXX.tmp``; a user's ``NAME.tmp`` is never
    touched); when the block ends without an error every temporary file is renamed into place, otherwise they are
    all removed and no output changes. Each output is checked against every input (and every other output) by file
    identity before it is written.
    """

    def __init__(self, inputs: Iterable[tuple[str, PathLike]] = ()):
        self.inputs = [(n, p) for n, p in inputs if p]
        self.staged: list[tuple[str, Path, Path]] = []  # (name, target, temporary file)

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()

    def _stage(self, path: PathLike, name: str) -> tuple[Path, int, str]:
        target = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
        if target.is_dir():
            raise OutputError(f"{name} {path}: is a directory")
        check_distinct([(name, target)], self.inputs + [(n, t) for n, t, _ in self.staged])
        check_writable(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        self.staged.append((name, target, Path(tmp)))
        return target, fd, tmp

    @contextlib.contextmanager
    def open(self, path: PathLike, name: str = "output", newline: str | None = None,
             binary: bool = False) -> Iterator[IO[Any]]:
        """A file (UTF-8 text unless ``binary``) whose content becomes ``path`` when the command succeeds."""
        _, fd, _ = self._stage(path, name)
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline=newline)) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())

    def write_text(self, path: PathLike, text: str, name: str = "output") -> Path:
        with self.open(path, name) as f:
            f.write(text)
        return Path(path)

    def write_bytes(self, path: PathLike, data: bytes, name: str = "output") -> Path:
        with self.open(path, name, binary=True) as f:
            f.write(data)
        return Path(path)

    def write_json(self, path: PathLike, doc: Any, name: str = "output", indent: int = 1) -> Path:
        return self.write_text(path, dumps(doc, indent) + "\n", name)

    def write_yaml(self, path: PathLike, doc: Any, name: str = "output") -> Path:
        return self.write_text(path, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), name)

    def write_jsonl(self, path: PathLike, records: Iterable[dict[str, Any]], name: str = "output") -> int:
        n = 0
        with self.open(path, name) as f:
            for rec in records:
                f.write(dumps(rec) + "\n")
                n += 1
        return n

    def commit(self) -> None:
        """Rename every staged file into place (after a last identity check), then sync their directories."""
        try:
            check_distinct([(n, t) for n, t, _ in self.staged], self.inputs)
        except OutputError:
            self.abort()
            raise
        for _, target, tmp in self.staged:
            if target.exists():
                with contextlib.suppress(OSError):
                    os.chmod(tmp, target.stat().st_mode & 0o7777)
            else:
                os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
        for parent in {t.parent for _, t, _ in self.staged}:
            _fsync_dir(parent)
        self.staged = []

    def abort(self) -> None:
        for _, _, tmp in self.staged:
            tmp.unlink(missing_ok=True)
        self.staged = []


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (JSON null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON text the reader reads back: a non-finite float (NaN, ±Infinity: "no value") is written as null."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=indent)
    except ValueError:
        return json.dumps(_finite(value), ensure_ascii=False, allow_nan=False, indent=indent)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_text(path: PathLike, text: str, inputs: Iterable[tuple[str, PathLike]] = (), name: str = "output") -> Path:
    """Write one output atomically (an :class:`Outputs` of one file)."""
    with Outputs(inputs) as out:
        return out.write_text(path, text, name)


def write_bytes(path: PathLike, data: bytes, inputs: Iterable[tuple[str, PathLike]] = (),
                name: str = "output") -> Path:
    with Outputs(inputs) as out:
        return out.write_bytes(path, data, name)


def write_json(path: PathLike, doc: Any, inputs: Iterable[tuple[str, PathLike]] = (), name: str = "output",
               indent: int = 1) -> Path:
    with Outputs(inputs) as out:
        return out.write_json(path, doc, name, indent)


def write_yaml(path: PathLike, doc: Any, inputs: Iterable[tuple[str, PathLike]] = (), name: str = "output") -> Path:
    with Outputs(inputs) as out:
        return out.write_yaml(path, doc, name)


def write_jsonl(path: PathLike, records: Iterable[dict[str, Any]], inputs: Iterable[tuple[str, PathLike]] = (),
                name: str = "output") -> int:
    """Write records to ``path`` atomically; returns the count."""
    with Outputs(inputs) as out:
        return out.write_jsonl(path, records, name)


# Appender: JSONL logs and caches grow by whole lines.


def repair_tail(path: PathLike) -> None:
    """Make an append-only JSONL file end with a whole line before appending to it: a last line without its newline
    that parses as JSON gets the newline; one that does not (the writer was killed mid-line) is cut, with a note."""
    path = Path(path)
    if not path.is_file():
        return
    with path.open("r+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        tail = min(size, 1 << 16)
        while True:  # find the last newline, reading backwards in growing chunks
            f.seek(size - tail)
            cut = f.read(tail).rfind(b"\n")
            if cut >= 0 or tail == size:
                break
            tail = min(size, tail * 4)
        keep = size - tail + cut + 1 if cut >= 0 else 0
        f.seek(keep)
        last = f.read()
        try:
            complete = isinstance(json.loads(last.decode("utf-8").removeprefix(BOM)), dict)
        except (ValueError, RecursionError):
            complete = False
        if complete:
            f.write(b"\n")
        else:
            f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    if not complete:
        print(f"note: {path}: dropped an incomplete last line ({size - keep} bytes, an interrupted write)",
              file=sys.stderr)


def append_jsonl(path: PathLike, records: Iterable[dict[str, Any]]) -> int:
    """Append records as whole lines, durably (flush + fsync), after :func:`repair_tail`; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_tail(path)
    n = 0
    with path.open("a", encoding="utf-8") as f:
        for rec in records:
            f.write(dumps(rec) + "\n")
            n += 1
        f.flush()
        os.fsync(f.fileno())
    return n


# Lock: one process at a time writes into a directory.


@contextlib.contextmanager
def lock_dir(directory: PathLike, what: str = "hicra") -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` (file ``.hicra.lock`` in it, holding our pid) while the block runs; a
    second process gets :class:`OutputError` naming the holder. A directory created here and left empty by a failing
    block is removed."""
    out = Path(directory)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise OutputError(f"{out} is in use by another {what} (pid {holder})") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file between our open and our lock: lock the new one
    ok = False
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
        ok = True
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)
        if created and not ok and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
