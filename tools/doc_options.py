"""Option tables of the docs, generated from the config dataclasses, so a changed default or help text cannot rot.

A page asks for a table with a marker line, and this script writes the table after it, up to the end marker:

    <!-- options: hicra.mining.config:MineConfig -->
    <!-- end options -->

The table lists the fields the class itself declares (for ``HICRAConfig``: hicra's fields and the TRL fields it gives
new defaults), each with its flag, default and help text. ``prefix=algorithm.hicra.`` names the fields as Hydra keys
instead of flags. ``python tools/doc_options.py`` rewrites the tables; ``--check`` only lists the stale pages (exit
status 1), as the test suite does.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- options: (?P<target>[\w.]+:\w+)(?: prefix=(?P<prefix>\S+))? -->$")
END = "<!-- end options -->"


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    return "`" + repr(value).replace("|", "\\|") + "`"


def _cell(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def options_table(target: str, prefix: str | None = None) -> list[str]:
    """The Markdown table of the fields ``module:Class`` declares itself (inherited ones are documented upstream)."""
    module, name = target.split(":")
    cls = getattr(importlib.import_module(module), name)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    rows = ["| option | default | description |", "|---|---|---|"]
    for f in (fields[n] for n in vars(cls).get("__annotations__", {}) if n in fields):  # in declaration order
        key = f"{prefix}{f.name}" if prefix else "--" + f.name.replace("_", "-")
        rows.append(f"| `{key}` | {_default(f)} | {_cell(str(f.metadata.get('help', '')))} |")
    return rows


def render(text: str) -> str:
    """``text`` with every marked table regenerated."""
    lines, out, skipping = text.splitlines(), [], False
    for line in lines:
        if skipping:
            if line.strip() == END:
                out.append(line)
                skipping = False
            continue
        out.append(line)
        match = MARKER.match(line.strip())
        if match:
            out.extend(options_table(match["target"], match["prefix"]))
            skipping = True
    if skipping:
        raise ValueError(f"an options marker has no '{END}' line")
    return "\n".join(out) + "\n"


def stale_pages(root: Path = REPO / "docs") -> list[Path]:
    """Pages whose option tables differ from what the dataclasses generate."""
    pages = sorted(root.glob("**/*.md"))
    return [p for p in pages if render(p.read_text(encoding="utf-8")) != p.read_text(encoding="utf-8")]


def main(argv: list[str]) -> int:
    stale = stale_pages()
    if "--check" in argv:
        for p in stale:
            print(f"{p.relative_to(REPO)}: option tables are out of date (run python tools/doc_options.py)")
        return 1 if stale else 0
    for p in stale:
        p.write_text(render(p.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"updated {p.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
