"""Markdown: markdown-it-py tokens -> blocks (headings, nested lists, tables, inline HTML)."""
from __future__ import annotations

from .blocks import Block, Line, lines_to_blocks, norm_ws, split_marker
from .html import html_blocks


def markdown_blocks(text: str) -> list[Block]:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    tokens = md.parse(text)
    blocks: list[Block] = []
    lists: list[dict] = []      # stack: {"ordered", "n"}
    items: list[dict] = []      # stack of open list items: {"block", "label", "depth"}
    tables = 0
    row = col = -1
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        typ = tok.type
        if typ == "heading_open":
            t = _md_inline(tokens[i + 1])
            if t:
                blocks.append(Block("heading", t, level=int(tok.tag[1])))
            i += 3
            continue
        if typ in ("bullet_list_open", "ordered_list_open"):
            lists.append({"ordered": typ == "ordered_list_open"})
        elif typ in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif typ == "list_item_open":
            label = None
            if lists and lists[-1]["ordered"]:
                label = f"{tok.info}{tok.markup}" if tok.info else None
            items.append({"block": None, "label": label, "depth": len(lists)})
        elif typ == "list_item_close":
            items.pop()
        elif typ == "inline":
            t = _md_inline(tok)
            parent = tokens[i - 1] if i else None
            if not t:
                pass
            elif parent is not None and parent.type in ("th_open", "td_open"):
                col += 1
                blocks.append(Block("cell", t, table=tables, row=row, col=col))
            elif items:
                it = items[-1]
                lines = [x.strip() for x in (tok.content or "").split("\n") if x.strip()]
                if it["block"] is None and len(lines) > 1 and any(split_marker(x) for x in lines[1:]):
                    # "a. ..." sub-items that CommonMark does not take for a list lazily continue the
                    # item's paragraph: split them back into items one level deeper
                    groups: list[list] = []
                    for x in lines:
                        mk = split_marker(x)
                        if mk and groups:
                            groups.append([mk[0], mk[1]])
                        elif groups:
                            groups[-1][1] += " " + x
                        else:
                            groups.append([None, x])
                    it["block"] = Block("item", norm_ws(groups[0][1]), level=it["depth"], number=it["label"])
                    blocks.append(it["block"])
                    for mk, x in groups[1:]:
                        blocks.append(Block("item", norm_ws(x), level=it["depth"] + 1, number=mk))
                elif it["block"] is None:
                    it["block"] = Block("item", t, level=it["depth"], number=it["label"])
                    blocks.append(it["block"])
                else:
                    blocks.append(Block("para", t))
            else:
                if tok.children and _md_all_strong(tok) and len(t.split()) <= 12 and not t.endswith("."):
                    blocks.append(Block("heading", t, level=7))
                elif "\n" in (tok.content or "") and any(split_marker(x.strip()) for x in tok.content.split("\n")):
                    blocks.extend(lines_to_blocks([Line(norm_ws(x)) for x in tok.content.split("\n")
                                                    if x.strip()], headings=False))
                else:
                    blocks.append(Block("para", t))
        elif typ == "table_open":
            tables += 1
            row = -1
        elif typ == "tr_open":
            row += 1
            col = -1
        elif typ == "html_block":
            sub, _ = html_blocks(tok.content)
            blocks.extend(sub)
        i += 1
    return blocks


def _md_inline(tok) -> str:
    parts: list[str] = []
    for ch in tok.children or []:
        if ch.type in ("text", "code_inline"):
            parts.append(ch.content)
        elif ch.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif ch.type == "image":
            parts.append(ch.content or "")
    return norm_ws("".join(parts))


def _md_all_strong(tok) -> bool:
    depth, saw = 0, False
    for ch in tok.children:
        if ch.type == "strong_open":
            depth += 1
            saw = True
        elif ch.type == "strong_close":
            depth -= 1
        elif ch.type == "text" and ch.content.strip() and depth == 0:
            return False
    return saw
