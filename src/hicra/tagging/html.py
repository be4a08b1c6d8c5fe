"""Figure-1-style HTML: texts with planning tokens highlighted (paper §1, Figure 1)."""

from __future__ import annotations

import html
from typing import Sequence

from hicra.tagging.tagger import TaggedText

STYLE = """body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222}
.trace{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:13px;border:1px solid #ddd;
border-radius:6px;padding:1em;margin:1em 0;line-height:1.5}
.plan{background:#ffd54f;border-radius:3px}.legend .plan{padding:0 .3em}"""


def render_trace(tagged: TaggedText) -> str:
    """One text as HTML; each run of adjacent planning tokens is wrapped in one ``<span class="plan">``."""
    out, pos, run = [], 0, False
    for (a, b), planning in zip(tagged.offsets.tolist(), tagged.planning.tolist()):
        a = max(a, pos)  # split characters appear in the offsets of each of their tokens: print them once
        if b <= a:
            continue
        if run and (a > pos or not planning):
            out.append("</span>")
            run = False
        piece = tagged.text[a:b]
        if planning and not run:  # a run starts at its first non-whitespace character
            lead = len(piece) - len(piece.lstrip())
            a, piece = a + lead, piece[lead:]
        out.append(html.escape(tagged.text[pos:a]))
        if planning and not run:
            out.append('<span class="plan">')
            run = True
        out.append(html.escape(piece))
        pos = b
    if run:
        out.append("</span>")
    out.append(html.escape(tagged.text[pos:]))
    return f'<div class="trace">{"".join(out)}</div>'


def render_page(tagged: Sequence[TaggedText], title: str) -> str:
    traces = "\n".join(render_trace(t) for t in tagged)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class='legend'><span class='plan'>highlighted</span> = planning token (inside a Strategic Gram); "
            f"the rest are execution tokens.</p>{traces}</body></html>")

