"""The assessment/grading section: each component's kind, weight or pass/fail (issue 9)."""
from __future__ import annotations

import re

from .blocks import Block, norm_ws
from .model import ExtractedAssessment
from .objectives import clean_heading, sentence_spans

_ASSESSMENT_HEADING = re.compile(
    r"^(?:(?:course|clerkship|student|methods?\s+of)\s+)?(?:assessments?|grading|evaluation|examinations?|"
    r"assessment\s+(?:and|&)\s+(?:grading|evaluation)|grading\s+(?:and|&)\s+(?:assessment|evaluation)|"
    r"how\s+(?:you|students)\s+(?:will\s+be|are)\s+(?:assessed|graded|evaluated)|grade\s+(?:breakdown|components)|"
    r"evaluation\s+(?:and|&)\s+grading|assessment\s+(?:methods?|components?|scheme|strategy))\b", re.I)


#: (kind, pattern): first match wins, so the specific kinds come before the generic "exam"
ASSESSMENT_KINDS = (
    ("osce", r"\bosces?\b|objective\s+structured\s+clinical"),
    ("workplace-based assessment", r"mini-?cex|\bdops\b|case-based\s+discussion|\bcbd\b|workplace-based|"
                                   r"direct(?:ly)?\s+observ|\bepa\b|entrustable"),
    ("preceptor evaluation", r"preceptor|supervisor|attending|clinical\s+(?:performance\s+)?evaluation|"
                             r"faculty\s+evaluation|evaluation\s+of\s+clinical|clinical\s+performance|ward\s+assessment"),
    ("portfolio", r"portfolio|reflective|reflection|logbook|log\s+book"),
    ("professionalism", r"professionalism|attendance"),
    ("written exam", r"\bexam(?:ination)?s?\b|\bmcqs?\b|multiple[-\s]choice|\bnbme\b|shelf|\bquiz(?:zes)?\b|"
                     r"written\s+(?:test|paper)|single\s+best\s+answer|\bsbas?\b|\btest\b|\bsaqs?\b"),
    ("presentation", r"presentation|case\s+report|poster"),
    ("assignment", r"assignment|essay|project|paper|write-?up"),
    ("participation", r"participation|engagement"),
)


_KIND_RX = [(k, re.compile(p, re.I)) for k, p in ASSESSMENT_KINDS]


_WEIGHT = re.compile(r"(\d{1,3}(?:[.,]\d+)?)\s*(?:%|percent\b|per\s+cent\b)", re.I)


_PASS_FAIL = re.compile(r"\bpass\s*/\s*fail\b|\bpass[-\s]fail\b|\bpass\s+or\s+fail\b|\bungraded\b|"
                        r"\bsatisfactory\s*/\s*unsatisfactory\b", re.I)


def assessment_kind(text: str) -> str | None:
    """The kind named first in the line ("Portfolio with six workplace-based assessments" is a portfolio);
    on a tie the more specific kind (earlier in ASSESSMENT_KINDS) wins."""
    best = None
    for order, (kind, rx) in enumerate(_KIND_RX):
        m = rx.search(text)
        if m and (best is None or (m.start(), order) < best[0]):
            best = ((m.start(), order), kind)
    return best[1] if best else None


def _component(blk: Block, text: str, a: int, e: int) -> ExtractedAssessment | None:
    kind = assessment_kind(text)
    if kind is None:
        return None
    w = _WEIGHT.search(text)
    weight = round(float(w.group(1).replace(",", ".")) / 100, 4) if w else None
    if weight is not None and not 0 < weight <= 1:
        weight = None
    pf = bool(_PASS_FAIL.search(text))
    if weight is None and not pf and blk.kind not in ("item", "cell") and len(text.split()) > 12:
        return None  # prose without a weight or pass/fail mark: only a short component sentence counts
    title = re.sub(r"\(\s*(?:of\s+the\s+(?:mark|grade)\s*)?\)", "", _WEIGHT.sub("", text.split(" | ")[0]))
    title = re.sub(r"\(?\bpass\s*/\s*fail\b\)?$", "", norm_ws(title).strip()) if pf and len(title.split()) <= 6 else title
    title = norm_ws(title).strip(" :;.-\u2013\u2014|(")
    return ExtractedAssessment(kind=kind, title=title or kind, weight=weight, pass_fail=pf,
                               paragraph=blk.index, char_start=a, char_end=e)


def find_assessments(blocks: list[Block]) -> list[ExtractedAssessment]:
    """Components of the assessment/grading section: each line (item, paragraph or table row) that names a
    kind of assessment, with its weight ("40%") or a pass/fail mark.  Only inside a section whose heading (or
    a "Assessment:" label line) is about assessment, so "physical examination" in an objective is never one."""
    out: list[ExtractedAssessment] = []
    n = len(blocks)
    i = 0
    while i < n:
        b = blocks[i]
        head = clean_heading(b.text).rstrip(":").strip()
        is_head = (b.kind == "heading" or (b.kind == "para" and b.text.rstrip().endswith(":")
                                          and len(b.text.split()) <= 6))
        inline = re.match(r"^\s*([^:]{3,60}):\s+(\S.*)$", b.text) if b.kind == "para" and not is_head else None
        if inline and _ASSESSMENT_HEADING.match(clean_heading(inline.group(1))):
            # "Assessment: Final exam 70% Logbook (pass/fail) Quiz 30%" (plain text joined into one paragraph):
            # one component per weight or pass/fail mark
            off = b.start + inline.start(2)
            for m in re.finditer(r"\S.*?(?:\d{1,3}(?:[.,]\d+)?\s*%|\(?\bpass\s*/\s*fail\b\)?)", inline.group(2)):
                a_ = _component(b, m.group(0), off + m.start(), off + m.end())
                if a_:
                    out.append(a_)
            i += 1
            continue
        if not (is_head and _ASSESSMENT_HEADING.match(head)):
            i += 1
            continue
        j = i + 1
        lines: list[tuple[Block, str, int, int]] = []
        while j < n and not (blocks[j].kind == "heading" and (b.kind != "heading" or blocks[j].level <= b.level)):
            c = blocks[j]
            if c.kind == "cell":  # one table row = one line
                t, row = c.table, c.row
                cells = []
                while j < n and blocks[j].kind == "cell" and blocks[j].table == t and blocks[j].row == row:
                    cells.append(blocks[j])
                    j += 1
                lines.append((cells[0], " | ".join(x.text for x in cells), cells[0].start, cells[-1].end))
                continue
            if b.kind == "para" and c.kind == "para" and c.text.rstrip().endswith(":") and lines:
                break  # the next "Label:" section of a plain-text syllabus
            for s_, e_ in (sentence_spans(c.text) if c.kind == "para" else [(0, len(c.text))]):
                lines.append((c, c.text[s_:e_], c.start + s_, c.start + e_))
            j += 1
        for blk, text, a, e in lines:
            comp = _component(blk, text, a, e)
            if comp:
                out.append(comp)
        i = max(j, i + 1)
    seen, uniq = set(), []
    for a in out:
        key = (a.kind, a.title.lower())
        if key not in seen:
            seen.add(key)
            uniq.append(a)
    return uniq
