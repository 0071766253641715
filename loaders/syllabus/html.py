"""HTML: block elements, lists, data tables (layout tables unwrapped), emphasised pseudo-headings (bs4)."""
from __future__ import annotations

import re

from .blocks import Block, Line, lines_to_blocks, norm_ws, roman, split_marker

_BLOCK_TAGS = {"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div",
               "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "main",
               "p", "pre", "section", "summary", "caption", "html", "hr", "br"}


_SKIP_TAGS = {"script", "style", "noscript", "template", "nav", "head", "svg", "math", "iframe", "object",
              "button", "select", "option", "textarea"}


def html_blocks(text: str):
    from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction

    soup = BeautifulSoup(text, "html.parser")
    head_title = None
    if soup.title and soup.title.string:
        head_title = norm_ws(str(soup.title.string)) or None
    blocks: list[Block] = []
    state = {"tables": 0}
    skip_types = (Comment, Declaration, Doctype, ProcessingInstruction)

    def inline_text(el, *, stop_lists=False) -> str:
        parts: list[str] = []

        def rec(node):
            for ch in node.children:
                if isinstance(ch, skip_types):
                    continue
                if isinstance(ch, NavigableString):
                    parts.append(str(ch))
                    continue
                name = ch.name.lower()
                if name in _SKIP_TAGS or (stop_lists and name in ("ul", "ol")):
                    continue
                if name == "br":
                    parts.append("\n")
                    continue
                if name in ("p", "div", "li", "tr", "dd", "dt"):
                    parts.append("\n")
                if name in ("td", "th"):
                    parts.append(" ")
                rec(ch)
                if name in ("p", "div"):
                    parts.append("\n")
        rec(el)
        return "".join(parts)

    def flush(buf: list[tuple[str, bool]]):
        t = "".join(x for x, _ in buf)
        emph = any(x.strip() for x, _ in buf) and all(e for x, e in buf if x.strip())
        buf.clear()
        one = norm_ws(t)
        if emph and "\n" not in t.strip() and len(one.split()) <= 12 and not one.endswith("."):
            blocks.append(Block("heading", one, level=7))  # a bold/large line on its own: a heading
            return
        emit_text(t)

    def emit_text(t: str):
        ls = [norm_ws(x) for x in t.split("\n")]
        ls = [x for x in ls if x]
        if not ls:
            return
        if len(ls) == 1 and not split_marker(ls[0]):
            blocks.append(Block("para", ls[0]))
        else:
            blocks.extend(lines_to_blocks([Line(x) for x in ls], headings=False))

    def walk(el, depth: int):
        buf: list[tuple[str, bool]] = []
        for ch in el.children:
            if isinstance(ch, skip_types):
                continue
            if isinstance(ch, NavigableString):
                buf.append((str(ch), False))
                continue
            name = ch.name.lower()
            if name in _SKIP_TAGS:
                continue
            if name == "br":
                buf.append(("\n", False))
                continue
            if re.fullmatch(r"h[1-6]", name):
                flush(buf)
                t = norm_ws(inline_text(ch))
                if t:
                    blocks.append(Block("heading", t, level=int(name[1])))
            elif name in ("ul", "ol", "menu"):
                flush(buf)
                lst(ch, depth + 1)
            elif name == "table":
                flush(buf)
                if _layout_table(ch):
                    walk(ch, depth)  # a table used for page layout: its cells are ordinary containers
                else:
                    table(ch)
            elif name == "li":  # stray li outside a list
                flush(buf)
                li(ch, depth + 1, None)
            elif name in _BLOCK_TAGS or name in ("td", "th", "tr", "tbody", "thead", "tfoot"):
                flush(buf)
                walk(ch, depth)
            else:
                if any(getattr(d, "name", None) in ("ul", "ol", "table", "p", "div", "li")
                       or re.fullmatch(r"h[1-6]", getattr(d, "name", "") or "") for d in ch.descendants):
                    flush(buf)
                    walk(ch, depth)
                else:
                    buf.append((inline_text(ch), _emphasised(ch)))
        flush(buf)

    def lst(el, depth: int):
        ordered = el.name.lower() == "ol"
        n = _int(el.get("start"), 1) - 1
        kind = (el.get("type") or "1")
        for ch in el.children:
            if getattr(ch, "name", None) is None:
                continue
            if ch.name.lower() == "li":
                n = _int(ch.get("value"), n + 1)
                label = _ol_label(kind, n) if ordered else None
                li(ch, depth, label)
            elif ch.name.lower() in ("ul", "ol"):
                lst(ch, depth + 1)

    def li(el, depth: int, label):
        t = norm_ws(inline_text(el, stop_lists=True))
        if t:
            blocks.append(Block("item", t, level=depth, number=label))
        for sub in el.find_all(["ul", "ol"]):
            if sub.find_parent("li") is el:  # its own sub-lists, not deeper ones
                lst(sub, depth + 1)

    def table(el):
        state["tables"] += 1
        tno = state["tables"]
        for r, tr in enumerate(el.find_all("tr")):
            if tr.find_parent("table") is not el:
                continue
            c = 0
            for cell in tr.find_all(["td", "th"], recursive=False):
                t = norm_ws(inline_text(cell))
                if t:
                    blocks.append(Block("cell", t, table=tno, row=r, col=c))
                c += 1

    walk(soup, 0)
    return blocks, head_title


def _emphasised(el, depth: int = 0) -> bool:
    """Bold, or a large <font>/<big>, all the way through (a visual heading in old or CMS HTML)."""
    from bs4 import NavigableString

    name = (el.name or "").lower()
    if name in ("b", "strong", "big"):
        return True
    if name == "font" and re.fullmatch(r"\+?[4-7]", (el.get("size") or "").strip()):
        return True
    if depth > 20 or name not in ("font", "span", "a", "u", "i", "em", "center", "small"):
        return False
    kids = [c for c in el.children if not (isinstance(c, NavigableString) and not str(c).strip())]
    return bool(kids) and all(not isinstance(c, NavigableString) and _emphasised(c, depth + 1) for c in kids)


def _layout_table(t) -> bool:
    """A table used to lay out a page, not to hold data: cells with headings, lists, tables or several
    paragraphs."""
    if (t.get("role") or "").lower() in ("presentation", "none"):
        return True
    for cell in t.find_all(["td", "th"]):
        if cell.find_parent("table") is not t:
            continue
        if cell.find(["h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "form"]) is not None:
            return True
        if len(cell.find_all(["p", "div"])) >= 2 or len(cell.find_all("br")) >= 2:
            return True
    return False


def _int(v, default: int) -> int:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return default


def _ol_label(kind: str, n: int) -> str:
    if kind == "a":
        return f"{chr(96 + (n - 1) % 26 + 1)}."
    if kind == "A":
        return f"{chr(64 + (n - 1) % 26 + 1)}."
    if kind in ("i", "I"):
        r = roman(max(n, 1))
        return (r.lower() if kind == "i" else r) + "."
    return f"{n}."
