"""Plain text: blank lines separate paragraphs, form feeds separate pages."""
from __future__ import annotations

import re

from .blocks import Block, Line, drop_furniture, lines_to_blocks, norm_ws, split_marker


def text_blocks(text: str) -> list[Block]:
    """Plain text: blank lines separate paragraphs; form feeds (text saved from a PDF) separate pages,
    whose running headers and page numbers are dropped."""
    pages: list[list[Line]] = []
    gap = True
    for page in text.replace("\r\n", "\n").replace("\r", "\n").split("\f"):
        lines: list[Line] = []
        for r in page.split("\n"):
            s = r.rstrip()
            if not s.strip():
                gap = True
                continue
            if re.fullmatch(r"\s*(=+|-+|_+|\*+)\s*", s) and len(s.strip()) >= 3:
                if lines and not gap and s.strip()[0] in "=-":
                    lines[-1].heading = 1 if s.strip()[0] == "=" else 2
                gap = True
                continue
            m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", s)
            lines.append(Line(norm_ws(m.group(2) if m else s), x=len(s) - len(s.lstrip()), gap=gap,
                               heading=len(m.group(1)) if m else None))
            gap = False
        pages.append(lines)
    lines = [ln for pl in (drop_furniture(pages) if len(pages) > 1 else pages) for ln in pl]
    # the first line is the title when it is short and not a sentence
    if lines and lines[0].heading is None and len(lines[0].text.split()) <= 15 \
            and not lines[0].text.endswith(".") and not split_marker(lines[0].text):
        lines[0].heading = 1
    return lines_to_blocks(lines)
