"""DOCX: paragraphs, Word numbering and tables (python-docx), after the zip-bomb and XML-entity checks."""
from __future__ import annotations

import io
import re

from ontology.errors import GapmapError

from ..safety import XmlForbidden, check_xml_part, check_zip
from .blocks import Block, Line, lines_to_blocks, norm_ws, roman, split_marker
from .errors import CorruptDocument, UnsafeDocument, short_reason
from .metadata import junk_title

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_blocks(data: bytes, filename: str, max_bytes: int):
    _check_zip(data, filename, max_bytes)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        doc = docx.Document(io.BytesIO(data))
    except Exception as e:
        raise CorruptDocument(f"this DOCX is corrupt and cannot be read ({short_reason(e)})", file=filename) from None
    numfmt = _numbering_formats(doc)
    counters: dict[tuple[str, int], int] = {}
    blocks: list[Block] = []
    tables = 0

    def para(p: Paragraph, in_cell=False):
        text = p.text or ""
        if not text.strip():
            return
        sname = ""
        try:
            sname = (p.style.name or "") if p.style is not None else ""
        except Exception:
            pass
        lname = sname.lower()
        hl = None
        if lname == "title":
            hl = 0
        elif m := re.match(r"heading\s*(\d)", lname):
            hl = int(m.group(1))
        else:
            ol = p._p.find(f"{_W}pPr/{_W}outlineLvl")
            if ol is not None and (v := ol.get(f"{_W}val", "")).isdigit() and int(v) < 9:
                hl = int(v) + 1
        if hl is not None and not in_cell:
            blocks.append(Block("heading", text, level=hl))
            return
        num = _docx_numpr(p)
        if num is None and (lname.startswith("list bullet") or lname.startswith("list number")):
            num = ("style:" + lname, 0)
        if num is not None and not in_cell:
            num_id, ilvl = num
            fmt = numfmt.get((num_id, ilvl)) or ("decimal" if "number" in lname else "bullet")
            for k in [k for k in counters if k[0] == num_id and k[1] > ilvl]:
                del counters[k]
            counters[(num_id, ilvl)] = counters.get((num_id, ilvl), 0) + 1
            label = None if fmt in ("bullet", "none") else _label(fmt, counters[(num_id, ilvl)])
            depth = ilvl + 1 + (int(m.group(1)) - 1 if (m := re.search(r"(\d)$", lname)) else 0)
            for t in text.split("\n"):
                if t.strip():
                    blocks.append(Block("item", t, level=depth, number=label))
                    label = None
            return
        runs = [r for r in p.runs if r.text.strip()]
        if (not in_cell and runs and all(r.bold for r in runs) and len(text.split()) <= 12
                and not text.rstrip().endswith(".")):
            blocks.append(Block("heading", text, level=7))
            return
        if ("\n" in text or split_marker(norm_ws(text))) and not in_cell:
            blocks.extend(lines_to_blocks([Line(norm_ws(t)) for t in text.split("\n") if t.strip()],
                                            headings=False))
            return
        blocks.append(Block("para", text))

    def table(t: Table):
        nonlocal tables
        tables += 1
        tno = tables
        for r, row in enumerate(t.rows):
            seen = set()
            c = 0
            for cell in row.cells:
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                txt = norm_ws(" ".join(p.text for p in cell.paragraphs))
                if txt:
                    blocks.append(Block("cell", txt, table=tno, row=r, col=c))
                c += 1

    def body_items(el, depth=0):
        """Paragraphs and tables in document order, including those inside content controls (w:sdt)."""
        for child in el.iterchildren():
            if child.tag == f"{_W}p":
                yield Paragraph(child, doc._body)
            elif child.tag == f"{_W}tbl":
                yield Table(child, doc._body)
            elif child.tag in (f"{_W}sdt", f"{_W}customXml") and depth < 10:
                content = child.find(f"{_W}sdtContent") if child.tag == f"{_W}sdt" else child
                if content is not None:
                    yield from body_items(content, depth + 1)

    try:
        for item in body_items(doc.element.body):
            if isinstance(item, Table):
                table(item)
            else:
                para(item)
    except GapmapError:
        raise
    except Exception as e:
        raise CorruptDocument(f"this DOCX is corrupt: {short_reason(e)}", file=filename) from None
    meta_title = None
    try:
        meta_title = norm_ws(doc.core_properties.title or "") or None
    except Exception:
        pass
    if meta_title and junk_title(meta_title):
        meta_title = None
    return blocks, meta_title


def _check_zip(data: bytes, filename: str, max_bytes: int) -> None:
    """Zip-bomb and XML-entity checks on the raw DOCX before python-docx opens it."""
    z = check_zip(data, filename, kind="DOCX", max_bytes=max_bytes,
                  unsafe=lambda msg, file: UnsafeDocument(msg, file=file),
                  corrupt=lambda msg, file: CorruptDocument(msg, file=file))
    infos = z.infolist()
    for i in infos:
        if not i.filename.lower().endswith((".xml", ".rels")):
            continue
        try:
            raw = z.read(i)
        except Exception as e:  # bad CRC, truncated
            raise CorruptDocument(f"this DOCX is corrupt: part {i.filename} cannot be read ({short_reason(e)})",
                                  file=filename) from None
        try:
            check_xml_part(raw)
        except XmlForbidden:
            raise UnsafeDocument(f"the DOCX part {i.filename} has a DOCTYPE or entity declarations; refused",
                                 file=filename) from None
        except Exception as e:
            raise CorruptDocument(f"this DOCX is corrupt: part {i.filename} is not well-formed XML "
                                  f"({short_reason(e)})", file=filename) from None


def _docx_numpr(p) -> tuple[str, int] | None:
    """(numId, ilvl) from the paragraph's numPr or its style's; None when not in a list."""
    def from_ppr(ppr):
        if ppr is None:
            return None
        np_ = ppr.find(f"{_W}numPr")
        if np_ is None:
            return None
        nid = np_.find(f"{_W}numId")
        lvl = np_.find(f"{_W}ilvl")
        if nid is None or nid.get(f"{_W}val") in (None, "0"):
            return None
        return nid.get(f"{_W}val"), int(lvl.get(f"{_W}val", "0")) if lvl is not None else 0

    got = from_ppr(p._p.find(f"{_W}pPr"))
    if got:
        return got
    try:
        st = p.style
        while st is not None:
            got = from_ppr(st.element.find(f"{_W}pPr"))
            if got:
                return got
            st = st.base_style
    except Exception:
        pass
    return None


def _numbering_formats(doc) -> dict[tuple[str, int], str]:
    out: dict[tuple[str, int], str] = {}
    try:
        root = doc.part.numbering_part.element
    except Exception:
        return out
    abstract = {}
    for a in root.findall(f"{_W}abstractNum"):
        lv = {}
        for lvl in a.findall(f"{_W}lvl"):
            f = lvl.find(f"{_W}numFmt")
            lv[int(lvl.get(f"{_W}ilvl", "0"))] = f.get(f"{_W}val") if f is not None else "decimal"
        abstract[a.get(f"{_W}abstractNumId")] = lv
    for n in root.findall(f"{_W}num"):
        a = n.find(f"{_W}abstractNumId")
        if a is not None:
            for ilvl, fmt in abstract.get(a.get(f"{_W}val"), {}).items():
                out[(n.get(f"{_W}numId"), ilvl)] = fmt
    return out


def _label(fmt: str, n: int) -> str:
    if fmt == "lowerLetter":
        return f"{chr(96 + (n - 1) % 26 + 1)})"
    if fmt == "upperLetter":
        return f"{chr(64 + (n - 1) % 26 + 1)}."
    if fmt in ("lowerRoman", "upperRoman"):
        r = roman(n)
        return (r.lower() if fmt == "lowerRoman" else r) + "."
    return f"{n}."
