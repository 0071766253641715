"""A document's title, course code and language."""
from __future__ import annotations

import re
from collections import Counter

from .blocks import Block


#: placeholder titles that authoring tools write into a document's metadata (reportlab: "(anonymous)")
_JUNK_TITLES = {"untitled", "unknown", "anonymous", "title", "document", "syllabus", "no title", "none", "null",
                "n a", "na", "default", "template", "new document", "blank", "draft", "word document",
                "pdf document", "untitled document", "document title", "course title", "insert title here",
                "title of document", "your title here", "click here to enter text", "unspecified"}


def junk_title(t: str) -> bool:
    """A metadata title that is an authoring tool's placeholder, not the document's title: "(anonymous)",
    "untitled", "Microsoft Word - x.docx", "Document1", a file name..."""
    tl = re.sub(r"\s+", " ", t.lower()).strip()
    bare = re.sub(r"[\W_]+", " ", tl).strip()  # "(anonymous)", "[Untitled]", "<title>" → the word
    return (len(bare) < 3 or bare in _JUNK_TITLES
            or tl.startswith(("microsoft word", "microsoft powerpoint", "microsoft excel", "untitled", "powerpoint"))
            or bool(re.fullmatch(r"(document|doc|untitled|presentation|book|sheet)\s*\d*", bare))
            or bool(re.search(r"\.(docx?|pdf|odt|rtf|tex|indd|pages|pptx?|txt|md|html?)$", tl)))


def course_title(title: str | None, code: str) -> str | None:
    """A course title without the course code it starts with ("GER-420 Geriatric Medicine" of GER-420 →
    "Geriatric Medicine"; the code may be written "GER 420" or "GER420", followed by ":", "-", "–", "·"...).
    The title unchanged when it is only the code or does not start with it."""
    if not title:
        return title
    m = re.match(r"([A-Za-z]+)[\s\-_.]*(\d+[A-Za-z]?)\b", code.strip())
    if m:
        head = re.escape(m.group(1)) + r"[\s\-_.]*" + re.escape(m.group(2))
    else:
        head = re.escape(code.strip())
    rest = re.match(rf"\s*{head}(?![\w])[\s:;,.\-–—·|/]*(.*)$", title, re.IGNORECASE | re.DOTALL)
    if rest and rest.group(1).strip():
        return rest.group(1).strip()
    return title


def find_title(blocks: list[Block], meta_title: str | None, fmt: str) -> str | None:
    heads = [b for b in blocks if b.kind == "heading"]
    if fmt == "pdf" and meta_title:
        return meta_title
    for b in heads:
        if b.level == 0:
            return b.text
    top = [b for b in heads if b.level == 1]
    if top and blocks.index(top[0]) <= 3:
        return top[0].text
    if blocks and blocks[0].kind == "heading":  # a bold or large first line is the visible title
        return blocks[0].text
    if meta_title:
        return meta_title
    if heads and blocks.index(heads[0]) <= 3 and heads[0].level < 7:
        return heads[0].text
    for b in blocks:
        if len(b.text.split()) <= 20:
            return b.text
        break
    return None


_CODE = re.compile(r"\b([A-Z][A-Za-z]{1,5})([ \-]?)(\d{3,4}[A-Z]?)\b")


_CODE_STOP = {"ISBN", "ISSN", "ICD", "DSM", "COVID", "SARS", "ECTS", "DOI", "PMID", "ISO", "HL", "PO", "TEL",
              "FAX", "ROOM", "RM", "PAGE", "PP", "VOL", "NO", "ZIP", "PIN", "CEO", "HIV", "ATLS", "NHS", "NICE",
              "BMJ", "JAMA", "NEJM", "WHO", "CDC", "ECG", "EKG", "CT", "MRI", "ICU", "ED", "AE", "BUS", "TEAM", "GROUP",
              "LAB", "WARD", "BED", "BLDG", "BUILDING", "AMC", "OSCE", "MCQ", "SBA", "RCT", "UK", "USA", "EU"}


_MONTHS = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "SEPT", "OCT", "NOV", "DEC",
           "JANUARY", "FEBRUARY", "MARCH", "APRIL", "JUNE", "JULY", "AUGUST", "SEPTEMBER", "OCTOBER",
           "NOVEMBER", "DECEMBER", "SPRING", "SUMMER", "AUTUMN", "FALL", "WINTER", "YEAR", "WEEK"}


def find_course_code(title: str | None, text: str) -> str | None:
    def find(s: str):
        for m in _CODE.finditer(s):
            prefix = m.group(1)
            if not prefix.isupper():
                continue
            if prefix in _CODE_STOP or prefix in _MONTHS:
                continue
            if re.fullmatch(r"(19|20)\d\d", m.group(3)) and m.group(2) == " ":  # "MARCH 2026", "WHO 2020"
                continue
            return m.group(0)
        return None

    if title and (c := find(title)):
        return c
    for m in re.finditer(r"(?i)(?:course|module|subject|unit)\s*(?:code|no\.?|number)|kurs(?:nummer|code)"
                         r"|modulnummer|c[oó]digo", text[:5000]):
        if c := find(text[m.end():m.end() + 60]):
            return c
    return find(text[:3000])


_STOP = {
    "en": "the and of to in is for with will be are on this by an as that students from or at can their".split(),
    "de": "der die das und ist mit für von den des im auf ein eine zu nicht werden sich dem sind oder können "
          "studierenden".split(),
    "es": "el la los las de del y en que con por para una un se es al como su sus estudiante será".split(),
    "fr": "le la les des du de et en est pour une un dans que sur au aux avec ce cours étudiant sera".split(),
}


def detect_language(text: str) -> str | None:
    """'en', 'de', 'es' or 'fr' by stop-word counts; None when too little text to tell."""
    words = re.findall(r"[a-zà-öø-ÿ']+", text.lower())
    counts = Counter(words)
    scores = {lang: sum(counts[w] for w in set(ws)) for lang, ws in _STOP.items()}
    best = max(scores, key=scores.get)
    if scores[best] < 3:
        return None
    return best
