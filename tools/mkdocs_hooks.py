"""MkDocs hook of the docs site: the docstrings' Sphinx cross-reference roles (``:func:`x```) render as code.

mkdocstrings renders a role such as ``:mod:`hicra.records``` as the literal text ``:mod:`` before the code span; the
role adds nothing a reader needs, so it is dropped from the generated HTML.
"""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:py:)?(?:attr|class|data|exc|func|meth|mod|obj|ref):(?=<code)")


def on_page_content(html: str, **kwargs) -> str:
    return ROLE.sub("", html)
