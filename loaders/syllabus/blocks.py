"""The shared model every format reader produces: lines of text -> blocks (heading / item / para / cell).

Also the list-marker grammar, running headers and page numbers (page furniture), and :func:`assemble`, which
joins the blocks into the document's plain text and records each block's offset in it."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass


@dataclass
class Block:
    kind: str                 # heading | item | para | cell
    text: str
    level: int = 0            # heading level (0 = title, 7 = bold pseudo-heading) or list depth
    number: str | None = None  # list label as written ("1.", "a)", "1.2"); None for bullets
    page: int | None = None
    table: int | None = None
    row: int | None = None
    col: int | None = None
    start: int = 0            # offset of text in the full text
    index: int = 0            # 1-based paragraph number

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_WS = re.compile(r"\s+")


def norm_ws(s: str) -> str:
    return _WS.sub(" ", s.replace("\u00ad", "").replace("\u200b", "")).strip()


# list markers at the start of a line of text
_MARKER = re.compile(
    r"^(?:(?P<m>\(?\d{1,3}[.)](?!\d)|\d{1,2}(?:\.\d{1,2})+\.?(?=\s+[^\W\d_])(?!\s+(?:mg|ml|g|kg|mm|cm|h|min)\b)|\(?[a-h][.)]|\(?(?:i|ii|iii|iv|v|vi|vii|viii|ix|x)[.)]"
    r"|(?:LO|SLO|ILO|CLO)\s?\d{1,3}[.:)]?)\s+"
    r"|(?P<d>[-\u2013\u2014*+])\s+"
    r"|(?P<b>[\u2022\u25cf\u25cb\u25e6\u25aa\u25a0\u25a1\u00b7\u25ba\u27a2\u2713\u2714\u2192\u27a4\u2756\u2043"
    r"\u2219\u2023\x7f-\x9f\ue000-\uf8ff])\s*)"
    r"(?P<t>\S.*)$")


def split_marker(text: str) -> tuple[str | None, str] | None:
    """``("1.", "Describe ...")`` for a list line, ``(None, "...")`` for a bullet, None otherwise."""
    m = _MARKER.match(text)
    if not m:
        return None
    return m.group("m"), m.group("t")


@dataclass
class Line:
    text: str
    page: int | None = None
    x: float = 0.0          # indent (points for PDF, columns for text)
    size: float | None = None
    bold: bool = False
    gap: bool = False       # blank line / vertical space before it
    heading: int | None = None  # forced heading level (setext, #)


_PAGE_NO = re.compile(r"(?i)^(?:-\s*)?(?:page|seite|página|pagina|p\.)?\s*\d{1,4}(?:\s*(?:of|/|von|de|sur)\s*\d{1,4})?"
                      r"(?:\s*-)?$")


_PAGE_TAIL = re.compile(r"(?i)\b(?:page|seite|página|pagina|p\.)\s*\d{1,4}(?:\s*(?:of|/|von|de|sur)\s*\d{1,4})?\s*$")


def drop_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """Drop running headers/footers (the same line, digits aside, near the top or foot of at least
    half the pages) and bare page numbers; the first line left on a page continues the previous one."""
    def key(t: str) -> str:
        return re.sub(r"\d+", "#", t.lower()).strip()

    edge = lambda pl: pl[:3] + pl[-3:]  # noqa: E731
    counts = Counter()
    for pl in pages:
        counts.update({key(ln.text) for ln in edge(pl)})
    need = max(2, -(-len([p for p in pages if p]) // 2))
    furniture = {k for k, c in counts.items() if c >= need and len([p for p in pages if p]) >= 2}
    out = []
    for pl in pages:
        ids = {id(ln) for ln in edge(pl) if key(ln.text) in furniture or _PAGE_NO.match(ln.text.strip())
               or (_PAGE_TAIL.search(ln.text) and len(ln.text.split()) <= 10)}
        kept = [ln for ln in pl if id(ln) not in ids]
        if kept and out:
            kept[0].gap = False
        out.append(kept)
    return out


_LABEL_LINE = re.compile(r"^[A-ZÀ-Þ][\w .'/&-]{0,30}:\s+\S")


def _is_caps_heading(t: str) -> bool:
    letters = [c for c in t if c.isalpha()]
    return (len(letters) >= 3 and all(c.isupper() for c in letters) and len(t.split()) <= 12
            and not t.rstrip().endswith((".", ",", ";")))


def lines_to_blocks(lines: list[Line], *, pdf: bool = False, headings: bool = True) -> list[Block]:
    """Lines of text (a PDF page, a text file, a paragraph broken with <br>) -> blocks: list items
    by their markers, wrapped lines joined, headings by layout (``headings=False`` inside an HTML or
    DOCX paragraph, where only explicit heading markup counts)."""
    blocks: list[Block] = []
    cur: Block | None = None
    cur_x = 0.0
    cur_last = ""
    xs: list[float] = []  # indents of the open list levels
    for i, ln in enumerate(lines):
        t = ln.text.strip()
        if not t:
            continue
        mk = split_marker(t)
        level = ln.heading
        if level is None and not mk and headings:
            if _is_caps_heading(t) and (ln.gap or cur is None):
                level = 2
            elif not pdf and ln.gap and _standalone(lines, i) and _looks_like_heading(t):
                level = 3
        if level is not None:
            blocks.append(Block("heading", t, level=level, page=ln.page))
            cur, xs = None, []
            continue
        if mk:
            number, body = mk
            if cur is None or cur.kind != "item":
                xs = []
            while xs and ln.x < xs[-1] - 3:
                xs.pop()
            if not xs or abs(ln.x - xs[-1]) > 60:  # first item, or the next column
                xs = [ln.x]
            elif ln.x > xs[-1] + 3:
                xs.append(ln.x)
            depth = len(xs)
            cur = Block("item", body, level=depth, number=number, page=ln.page)
            blocks.append(cur)
            cur_x, cur_last = ln.x, body
            continue
        if cur is not None and not ln.gap and not (not pdf and _LABEL_LINE.match(t)):
            if cur.kind == "item" and (ln.x > cur_x + 1 or not cur_last.rstrip().endswith((".", ";", "!", "?"))
                                       or not pdf):
                cur.text = _join(cur.text, t)
                cur_last = t
                continue
            if cur.kind == "para":
                cur.text = _join(cur.text, t)
                cur_last = t
                continue
        cur = Block("para", t, page=ln.page)
        blocks.append(cur)
        cur_x, cur_last = ln.x, t
    return blocks


def _join(a: str, b: str) -> str:
    return a + b if a.endswith("-") and len(a) > 1 and a[-2].isalpha() and b[:1].islower() else a + " " + b


def _standalone(lines: list[Line], i: int) -> bool:
    nxt = next((ln for ln in lines[i + 1:] if ln.text.strip()), None)
    return nxt is None or nxt.gap


def _looks_like_heading(t: str) -> bool:
    words = t.split()
    return (1 <= len(words) <= 8 and t[:1].isupper() and not t.rstrip(":").endswith((".", ",", ";", "!", "?"))
            and not _LABEL_LINE.match(t))


def roman(n: int) -> str:
    out = ""
    for v, s in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                 (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out, n = out + s, n - v
    return out


def assemble(blocks: list[Block]) -> str:
    """Normalise block text, drop empty blocks (in place) and lay out the plain text."""
    kept = []
    for b in blocks:
        b.text = norm_ws(b.text)
        if b.text:
            kept.append(b)
    blocks[:] = kept
    out: list[str] = []
    pos = 0
    prev: Block | None = None
    for k, b in enumerate(blocks, 1):
        if prev is None:
            sep = ""
        elif b.kind == "cell" and prev.kind == "cell" and prev.table == b.table and prev.row == b.row:
            sep = " | "
        elif b.kind == "heading":
            sep = "\n\n"
        else:
            sep = "\n"
        if b.kind == "item":
            prefix = "  " * max(b.level - 1, 0) + (b.number or "-") + " "
        else:
            prefix = ""
        chunk = sep + prefix
        out.append(chunk)
        pos += len(chunk)
        b.start = pos
        b.index = k
        out.append(b.text)
        pos += len(b.text)
        prev = b
    return "".join(out)
