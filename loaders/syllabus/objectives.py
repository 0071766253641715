"""Learning objectives: sections under an objectives heading, lead-ins, tables, and the sentence fallback."""
from __future__ import annotations

import re

from .blocks import Block, split_marker
from .bloom import BLOOM_ADVERBS, MODAL, MODAL_OTHER, VERBS, WORD, bloom_level, languages_for, lookup_verb
from .model import ExtractedObjective

_HEADING_PATTERNS = [re.compile(p, re.I) for p in (
    r"^(?:(?:specific|general|key|main|core|overall|intended|expected|course|module|clerkship|session|block|"
    r"programme|program|unit|lecture|rotation|placement)\s+)*(?:learning\s+|educational\s+|instructional\s+|"
    r"teaching\s+|course\s+|module\s+|performance\s+|behavio(?:u)?ral\s+)?(?:objectives?|outcomes?|goals?|aims?)"
    r"(?:\s+and\s+(?:objectives|outcomes|goals))?(?:\s*\(.*\))?$",
    r"^(?:(?:intended|expected|specific)\s+)?learning\s+(?:objectives?|outcomes?|goals?|aims?)\b",
    r"^(?:aims|goals)\s+and\s+(?:objectives|outcomes)\b",
    r"^(?:ilos?|slos?|clos?|los)$",
    r"^(?:by|at)\s+the\s+end\s+of\s+(?:this|the)\b",
    r"^(?:up)?on\s+(?:the\s+)?(?:successful\s+)?completion\s+of\b",
    r"^after\s+(?:successfully\s+)?(?:completing|finishing)\b",
    r"^(?:the\s+)?(?:students?|learners?|participants?|trainees?|you)\s+(?:will|should|can|shall)\b",
    r"^what\s+(?:you|students)\s+will\s+learn",
    r"^(?:lern|qualifikations|kompetenz|bildungs)?ziele\b",
    r"^lern(?:ergebnisse|inhalte\s+und\s+ziele)\b",
    r"^(?:am\s+ende|nach\s+(?:dem\s+)?(?:erfolgreichen?\s+)?(?:abschluss|teilnahme|besuch))\b",
    r"^(?:die\s+)?studierenden\s+(?:können|sollen|sind\s+in\s+der\s+lage)\b",
    r"^(?:objetivos?|resultados\s+(?:de|del)\s+aprendizaje|competencias)\b",
    r"^al\s+(?:finalizar|final|terminar|concluir|término)\b",
    r"^(?:el|la|los|las)\s+(?:estudiantes?|alumn[oa]s?)\s+(?:será[n]?|podrá[n]?|deberá[n]?)\b",
    r"^(?:objectifs?|acquis\s+d|résultats\s+d['’]apprentissage|compétences\s+visées)",
    r"^(?:à|a)\s+la\s+fin\s+d",
    r"^(?:au\s+terme|à\s+l['’]issue)\s+d",
    r"^(?:l['’]|les\s+)étudiant",
)]


_OBJ_COLUMN = re.compile(r"(?i)objective|outcome|goal|lernziel|ziel|objetivo|resultado|objectif|acquis|competenc")


_NUMBERISH = re.compile(r"^(?:[A-Z]{0,4}\s?\d{1,3}(?:\.\d{1,3})*[.)]?|[a-z][.)])$")


_NOUN_NEXT = {"of", "is", "are", "was", "were", "will", "can", "has", "have", "takes", "take", "sessions",
              "session", "room", "rooms", "materials", "team", "list", "lists", "plan", "plans", "dates", "date",
              "week", "weeks", "day", "days", "time", "times"}


def clean_heading(t: str) -> str:
    """Lower case, without a leading section number or "Week 3:" / "Session 2 -" / "Lecture 4." prefix."""
    t = t.strip().lower()
    t = re.sub(r"^(?:section|part|chapter|teil|parte|partie)?\s*(?:\d+(?:\.\d+)*|[ivx]+|[a-z])[.):\-]?\s+", "", t)
    t = re.sub(r"^(?:week|session|lecture|day|block|unit|module|topic|seminar|tutorial|practical|woche|sitzung|"
               r"semana|sesión|sesion|tema|semaine|séance|seance)\s*\d+[a-z]?\s*[:.\-\u2013\u2014]?\s*", "", t)
    return t.strip(" :.-\u2013\u2014\t")


#: phrases that name an objectives section wherever they stand in a short heading
_STRONG_HEADING = re.compile(
    r"\b(?:learning|educational|instructional)\s+(?:objectives?|outcomes?)\b|\blernziele\b|\blernergebnisse\b"
    r"|objetivos\s+(?:de\s+aprendizaje|docentes|formativos)|resultados\s+de\s+aprendizaje"
    r"|objectifs\s+(?:d['’]apprentissage|pédagogiques|de\s+formation)|acquis\s+d['’]apprentissage", re.I)


def is_objective_heading(t: str) -> bool:
    c = clean_heading(t)
    if not c or len(c.split()) > 16:
        return False
    return any(p.search(c) for p in _HEADING_PATTERNS) or (len(c.split()) <= 10 and bool(_STRONG_HEADING.search(c)))


def _is_lead_in(b: Block, nxt: Block | None) -> bool:
    if b.kind not in ("para", "heading"):
        return False
    c = clean_heading(b.text)
    if len(c.split()) > 30 or not any(p.search(c) for p in _HEADING_PATTERNS):
        return False
    return b.text.rstrip().endswith(":") or (nxt is not None and nxt.kind in ("item", "cell"))


def _objective_like_start(t: str, langs: list[str]) -> tuple[str, str] | None:
    """(level, verb) when the text starts with an imperative/infinitive action verb."""
    words = WORD.findall(t)
    if len(words) < 3:
        return None
    k = 0
    while k < min(3, len(words)) and (words[k].lower() in ("to", "be", "able") or
                                       words[k].lower() in BLOOM_ADVERBS):
        k += 1
    if k >= len(words) or not words[k][:1].isalpha():
        return None
    w = words[k]
    if words[k + 1: k + 2] and words[k + 1].lower() in _NOUN_NEXT:
        return None
    for lang in langs:
        tbl = VERBS.get(lang, {})
        if lang == "en":
            if w.lower() in tbl:  # the bare imperative only, not "describes"
                return tbl[w.lower()], w.lower()
        elif w.lower() in tbl:
            return tbl[w.lower()], w.lower()
    return None


#: verbs too common in practical instructions ("Use the side entrance", "Complete the form") to mark a
#: sentence as an objective on their own in the sentence fallback (they still count in lists)
_GENERIC_IMPERATIVES = set("""use take complete show carry record present prepare write select test question review
report list name state match locate know document build manage monitor verify communicate practise practice plan
rate attribute decide organise organize measure repeat operate label undertake obtain realizar utilizar usar
nennen angeben einsetzen utiliser employer""".split())


def _objective_like_sentence(t: str, lang: str | None) -> bool:
    langs = languages_for(lang)
    if len(WORD.findall(t)) < 4:
        return False
    start = _objective_like_start(t, langs)
    if start and start[1] not in _GENERIC_IMPERATIVES:
        return True
    m = MODAL.search(t)
    if m and lookup_verb(m.group("verb"), ["en"]):
        return True
    if MODAL_OTHER.search(t):
        lvl, _ = bloom_level(t, lang)
        return lvl is not None
    if lang == "de" or lang is None:
        words = WORD.findall(t)
        if words and lookup_verb(words[-1], ["de"]) and len(words) <= 25 and words[0][:1].islower():
            return True
    return False


def find_objectives(blocks: list[Block], lang: str | None) -> list[ExtractedObjective]:
    picked: list[tuple[Block, int, int, str]] = []  # block, start, end (in block), method
    seen: set[int] = set()

    def take(b: Block, method: str, s: int = 0, e: int | None = None):
        key = id(b) if e is None else (id(b), s)
        if key in seen:
            return
        seen.add(key)
        picked.append((b, s, len(b.text) if e is None else e, method))

    n = len(blocks)
    i = 0
    langs = languages_for(lang)
    while i < n:
        b = blocks[i]
        nxt = blocks[i + 1] if i + 1 < n else None
        if b.kind == "heading" and is_objective_heading(b.text):
            j = i + 1
            while j < n:
                if blocks[j].kind == "heading" and blocks[j].level <= b.level:
                    # a sub-heading set at the same level (bold body text) that the numbering runs across
                    if not (blocks[j].level == b.level and _continues(blocks[i + 1:j], j, blocks)):
                        break
                j += 1
            _section(blocks[i + 1:j], take, langs)
            i = j
            continue
        if _is_lead_in(b, nxt):
            j = i + 1
            if nxt is not None and nxt.kind == "cell":
                t = nxt.table
                while j < n and blocks[j].kind == "cell" and blocks[j].table == t:
                    j += 1
                _table(blocks[i + 1:j], take, under_heading=True, langs=langs)
            else:
                while j < n and blocks[j].kind == "item":
                    j += 1
                _items(blocks[i + 1:j], take, langs)
            i = max(j, i + 1)
            continue
        if b.kind == "cell" and b.row == 0:
            j = i
            while j < n and blocks[j].kind == "cell" and blocks[j].table == b.table:
                j += 1
            _table(blocks[i:j], take, under_heading=False, langs=langs)
            i = max(j, i + 1)
            continue
        i += 1

    if not picked:
        for b in blocks:
            if b.kind == "heading":
                continue
            for s, e in sentence_spans(b.text):
                if _objective_like_sentence(b.text[s:e], lang):
                    take(b, "sentence", s, e)
    out = []
    for b, s, e, method in sorted(picked, key=lambda p: (p[0].start + p[1])):
        text = b.text[s:e]
        number = b.number if method != "sentence" else None
        if method != "sentence" and number is None:
            mk = split_marker(text)
            if mk and mk[0]:
                number, rest = mk
                s += len(text) - len(rest)
                text = rest
        level, verb = bloom_level(text, lang)
        out.append(ExtractedObjective(text=text, number=number if method != "table" else b.number,
                                      page=b.page, paragraph=b.index, char_start=b.start + s,
                                      char_end=b.start + s + len(text), bloom_level=level, verb=verb,
                                      method=method))
    return out


def _items(items: list[Block], take, langs: list[str]) -> None:
    """Top-level items are objectives unless they only introduce sub-items ("Knowledge:", "Students
    will:"); sub-items are objectives when their parent was such a label or when they start with an
    action verb themselves (otherwise they are details of the parent: "including: - hand hygiene")."""
    if not items:
        return
    top = min(b.level for b in items)
    skipped: dict[int, bool] = {}  # level -> was the latest item at that level a skipped label?
    for k, b in enumerate(items):
        nxt = items[k + 1] if k + 1 < len(items) else None
        has_children = nxt is not None and nxt.level > b.level
        parent_skipped = next((skipped[lv] for lv in sorted(skipped, reverse=True) if lv < b.level), False)
        label = has_children and (_is_lead_in(b, nxt) or is_objective_heading(b.text) or (
            b.text.rstrip().endswith(":") and len(b.text.split()) <= 4) or _category_label(b, nxt, langs))
        skipped = {lv: v for lv, v in skipped.items() if lv < b.level}
        skipped[b.level] = label
        if label:
            continue
        if b.level == top or parent_skipped or _objective_like_start(b.text, langs):
            take(b, "list")


def _category_label(b: Block, child: Block, langs: list[str]) -> bool:
    """A short item without an action verb or a full stop whose first sub-item is an objective: a category
    (a numbered competency domain such as "1. Patient Care" over "a. Elicit ..."), not an objective."""
    t = b.text.strip()
    return (len(t.split()) <= 8 and not t.endswith((".", ";")) and _objective_like_start(t, langs) is None
            and _objective_like_start(child.text, langs) is not None)


def _numeric(label: str | None) -> int | None:
    m = re.match(r"^\(?(\d{1,3})[.)]?$", (label or "").strip())
    return int(m.group(1)) if m else None


def _continues(sec: list[Block], heading_at: int, blocks: list[Block]) -> bool:
    """Whether the list of an objectives section goes on after a sub-heading at ``blocks[heading_at]``:
    the item right after it continues the section's numbering ("4." after "3."), or the section so far is
    only a lead-in ending with ':' and items follow (typed numbering under bold sub-headings)."""
    nxt = blocks[heading_at + 1] if heading_at + 1 < len(blocks) else None
    if nxt is None or nxt.kind != "item":
        return False
    nums = [_numeric(b.number) for b in sec if b.kind == "item" and _numeric(b.number) is not None]
    if nums:
        return _numeric(nxt.number) == nums[-1] + 1
    body = [b for b in sec if b.kind != "heading"]
    return bool(body) and all(b.kind == "para" for b in body) and body[-1].text.rstrip().endswith(":")


def _section(sec: list[Block], take, langs: list[str]) -> None:
    """Objectives in the body of an objectives heading."""
    open_ = True
    collected = 0
    run: list[Block] = []
    k = 0
    while k < len(sec):
        b = sec[k]
        nxt = sec[k + 1] if k + 1 < len(sec) else None
        if b.kind == "item":
            if open_:
                run.append(b)
            k += 1
            continue
        if run:
            _items(run, take, langs)
            collected += len(run)
            run = []
        if b.kind == "heading":
            open_ = True
        elif b.kind == "cell":
            j = k
            while j < len(sec) and sec[j].kind == "cell" and sec[j].table == b.table:
                j += 1
            _table(sec[k:j], take, under_heading=True, langs=langs)
            k = j
            continue
        elif b.kind == "para":
            if _is_lead_in(b, nxt) or b.text.rstrip().endswith(":"):
                open_ = True
            elif _objective_like_start(b.text, langs) and len(b.text) < 400:
                take(b, "list")
                collected += 1
            elif collected:
                open_ = False
        k += 1
    if run:
        _items(run, take, langs)


def _table(cells: list[Block], take, *, under_heading: bool, langs: list[str] = ("en",)) -> None:
    if not cells:
        return
    rows: dict[int, list[Block]] = {}
    for c in cells:
        rows.setdefault(c.row, []).append(c)
    order = sorted(rows)
    header = rows[order[0]]
    col = None
    for c in header:
        if _OBJ_COLUMN.search(c.text) and len(c.text.split()) <= 6:
            col = c.col
            break
    body = order[1:] if col is not None else order
    if col is None:
        if not under_heading:
            return
        # the column with the longest text on average
        lens: dict[int, list[int]] = {}
        for r in order:
            for c in rows[r]:
                lens.setdefault(c.col, []).append(len(c.text))
        col = max(lens, key=lambda k: sum(lens[k]) / len(lens[k]))
        if len(rows[order[0]]) > 1 and all(len(c.text.split()) <= 4 for c in rows[order[0]]) and len(order) > 1:
            body = order[1:]
    for r in body:
        target = next((c for c in rows[r] if c.col == col), None)
        if target is None or len(target.text.split()) < 3:
            continue
        if not under_heading and not (_objective_like_start(target.text, list(langs))
                                      or len(target.text.split()) >= 6):
            continue  # "PLO 3 Scholar" in a mapping table is not an objective
        num = next((c.text for c in rows[r] if c.col != col and c.col < col and _NUMBERISH.match(c.text)), None)
        if num and target.number is None:
            target.number = num
        take(target, "table")


_ABBREV = {"dr", "prof", "mr", "mrs", "ms", "e.g", "i.e", "etc", "vs", "cf", "approx", "fig", "no", "nr", "st",
           "z.b", "bzw", "ca", "sr", "sra", "p.ej", "pr", "mme", "dra", "jr", "al", "inc", "ltd", "dept", "min",
           "max", "vol", "ed", "eds", "pp", "resp", "incl", "u.a", "d.h", "usw", "vgl", "ggf"}


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in a block's text."""
    spans, start = [], 0
    for m in re.finditer(r"[.!?;]+[\"”’')\]]*\s+(?=[\"“‘(¿¡]?[A-ZÀ-ÖØ-Þ])", text):
        end = m.start() + len(m.group(0).rstrip())
        before = text[start:m.start()]
        last = re.search(r"([\w.]+)$", before)
        tok = last.group(1).lower().rstrip(".") if last else ""
        if tok in _ABBREV or (len(tok) == 1 and tok.isalpha()):
            continue
        spans.append((start, end))
        start = m.end()
    if start < len(text) and text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans
