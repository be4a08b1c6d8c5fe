"""Safe file I/O for every command: one reader, one writer, one appender and a directory lock (see ``docs/io.md``).

* **Reader** (:func:`read_json`, :func:`read_yaml`, :func:`iter_jsonl`, :func:`read_csv`, :func:`read_text`): UTF-8
  with an optional BOM (stripped), duplicate keys refused, keys must be strings, YAML aliases refused, nesting depth,
  integer size and line length bounded, JSON numbers finite, the top-level value of the shape the caller states.
  Every problem raises :class:`DataError` as one ``FILE:LINE: problem`` message.
* **Writer** (:class:`Outputs`): each output is written to a unique temporary file in its directory and renamed into
  place only when every output of the command is complete; before anything is written every output is compared with
  every input by file identity and a collision is refused.
* **Appender** (:func:`append_jsonl`, :func:`repair_tail`): JSONL logs and caches grow by whole lines; a complete last
  line without its newline gets one, an unparseable last line is cut with a note.
* **Lock** (:func:`lock_dir`): one process at a time writes into a directory.

The package imports nothing else from hicra: :mod:`~hicra.io.read` holds the reader, :mod:`~hicra.io.write`
the writer, the appender and the lock.
"""

from hicra.io.read import (BOM, MAX_CELL, MAX_DEPTH, MAX_INT, MAX_LINE, DataError, iter_jsonl, parse_json, parse_yaml,
                           read_csv, read_json, read_text, read_yaml)
from hicra.io.write import (LOCK_NAME, OutputError, Outputs, append_jsonl, check_distinct, check_writable, dumps,
                            lock_dir, repair_tail, same_file, write_bytes, write_json, write_jsonl, write_text,
                            write_yaml)

__all__ = ["BOM", "MAX_CELL", "MAX_DEPTH", "MAX_INT", "MAX_LINE", "DataError", "iter_jsonl", "parse_json",
           "parse_yaml", "read_csv", "read_json", "read_text", "read_yaml", "LOCK_NAME", "OutputError", "Outputs",
           "append_jsonl", "check_distinct", "check_writable", "dumps", "lock_dir", "repair_tail", "same_file",
           "write_bytes", "write_json", "write_jsonl", "write_text", "write_yaml"]
