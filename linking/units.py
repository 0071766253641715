"""Query units: how a sentence is cut into the pieces the linker scores (clauses, keyword-list words, word
windows), and where a verbatim label match may stand (phrase boundaries, acronyms).  Plain text functions; the
linker (engine.py) decides which units to make and how to score them."""
from __future__ import annotations

import re

# --- query segmentation ------------------------------------------------------------------------
_SPLIT = re.compile(r"\s*(?:[,;:()\[\]/•|]|\s-\s|\band/or\b|\band\b|\bor\b|\bas well as\b|"
                    r"\bincluding\b|\bsuch as\b|\bwith\b|\be\.g\.)\s*", re.I)
_CONTENT = re.compile(r"[A-Za-z0-9]")


def segments(text: str, min_chars: int = 3) -> list[tuple[int, int]]:
    """Clause-like spans of ``text`` (char offsets), excluding the whole text itself."""
    spans = []
    pos = 0
    for m in _SPLIT.finditer(text):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    out = []
    for a, b in spans:
        piece = text[a:b].strip()
        if len(piece) >= min_chars and _CONTENT.search(piece):
            a = text.index(piece, a)
            out.append((a, a + len(piece)))
    if len(out) <= 1:
        return []
    return out


FUNCTION_WORDS = frozenset("""a an the and or of to in on at for with by from as is are be been will can
you your we our us they their it its this that these those who which have has had do does not
should must would could may might about into over under than then so such very through across
within both all least following while when where if also other more most well like""".split())


def function_word_ratio(text: str) -> float:
    words = [w.strip(".,;:!?()[]").lower() for w in text.split()]
    words = [w for w in words if w]
    return sum(w in FUNCTION_WORDS for w in words) / max(1, len(words))
TOKEN = re.compile(r"\S+")


def keyword_units(text: str, start: int, end: int, min_tokens: int = 3) -> list[tuple[int, int]]:
    """Word and word-pair spans of a span that reads like a keyword list ("django postgresql redis").

    A span of at least ``min_tokens`` words with no function word is taken for a list of terms,
    as job ads and syllabi often write them; its single words and adjacent pairs become units.
    """
    toks = [(m.start() + start, m.end() + start) for m in TOKEN.finditer(text[start:end])]
    words = [text[a:b].strip(".,;:!?()[]").lower() for a, b in toks]
    if len(toks) < min_tokens or any(w in FUNCTION_WORDS for w in words):
        return []
    out = [(a, b) for (a, b), w in zip(toks, words) if len(w) >= 2]
    out += [(toks[i][0], toks[i + 1][1]) for i in range(len(toks) - 1)]
    return out



# --- verbatim label matches: phrase boundaries ---------------------------------------------------
_WORD = re.compile(r"[\w'’-]+")
#: words after which the next word opens a verb phrase ("to assess", "will perform", "and document")
_BOUNDARY_WORDS = FUNCTION_WORDS | frozenset("""before after during between among without upon per via against
toward towards beyond around using including until since throughout""".split())
_CLAUSE_OPENERS = frozenset("to will shall can could should must may might and or then also".split())
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]*[A-Z0-9](?:-[A-Z0-9]+)*\b")


def is_acronym(name: str) -> bool:
    """A label that is (or holds) an acronym or code ("SBAR", "I-PASS", "ACLS"): a name, not a phrase that a
    modifier turns into something else, so it counts wherever it occurs."""
    return bool(_ACRONYM.search(name)) and len(name.split()) <= 2


def _neighbour(text: str, pos: int, left: bool) -> tuple[str | None, int]:
    """The word right before (``left``) or after ``pos`` when only spaces separate it, else None."""
    if left:
        j = pos
        while j > 0 and text[j - 1] in " \t":
            j -= 1
        m = re.search(r"[\w'’-]+$", text[:j])
        return (m.group(0), m.start()) if m and m.end() == j else (None, j)
    j = pos
    while j < len(text) and text[j] in " \t":
        j += 1
    m = _WORD.match(text, j)
    return (m.group(0), m.end()) if m else (None, j)


def phrase_bounded(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` stands as a phrase of its own rather than inside a longer noun phrase.

    Longest-match logic without a parser: a word glued to the match on either side (no punctuation
    between) extends the phrase unless it is a function word ("with care planning", "care planning for"),
    or, on the left, the clause's verb (the first word of the text or of a clause: "Develop care plans",
    "to perform hand hygiene").  "an advance care planning conversation" fails on both sides, so the alt label
    "care planning" is not a verbatim match there.
    """
    left, lpos = _neighbour(text, start, True)
    if left is not None and left.lower() not in _BOUNDARY_WORDS:
        before, _ = _neighbour(text, lpos, True)
        if before is not None and before.lower() not in _CLAUSE_OPENERS:
            return False
    right, _ = _neighbour(text, end, False)
    if right is not None and right.lower() not in _BOUNDARY_WORDS:
        return False
    return True
