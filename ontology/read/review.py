"""The review queue and the review state of alignments, as typed rows.

:func:`review_queue` is THE queue: the API (``GET /api/programs/{p}/review``), the review page
(``/programs/{p}/review``) and the CLI (``gapmap review-queue``) all list what it returns, with the same
filters (course, year, status, minimum precision) in the same order (syllabus order: year, course, place in
the uploaded document or session, then objective id, numbers compared as numbers; within an objective the
suggestions first, best score first).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from collections.abc import Iterable
from typing import Any

from rdflib import URIRef

from ..errors import GapmapError, NotFound
from ._base import Record, Row, Selecting, opt_float, opt_int, opt_text, term_name, text

#: which objectives the queue shows (``status``), with what each means
STATUS_FILTERS: dict[str, str] = {
    "pending": "awaiting a decision, or unmapped", "suggested": "with a pending suggestion",
    "unmapped": "with nothing accepted", "accepted": "with an accepted alignment",
    "rejected": "with a rejected alignment", "all": "all"}


def alignment_etag(alignment: object, status: object, last_decisions: Iterable[object] = ()) -> str:
    """The ETag of an alignment's review state: changes with every decision on it."""
    key = "|".join([str(alignment), str(status), *sorted(str(d) for d in last_decisions if d)])
    return '"' + hashlib.sha1(key.encode()).hexdigest()[:20] + '"'



class QueueFilterError(GapmapError):
    status = 400
    title = "Bad parameter"


Span = tuple[int, int]


@dataclass(frozen=True)
class QueueAlignment(Record):
    """One alignment of an objective in the queue."""

    id: str
    iri: str
    etag: str
    competency: str
    framework: str
    notation: str
    label: str
    score: float | None
    precision: float | None
    #: ``suggested``, ``accepted`` or ``rejected``
    status: str
    #: the method's term, lower case (``embeddingmethod``, ``manualmethod``, ``curatormethod``)
    method: str
    evidence: str | None
    evidence_field: str | None
    query_span: Span | None

    @property
    def method_name(self) -> str:
        """``embedding``, ``manual`` or ``curator``."""
        return self.method.removesuffix("method")

    def to_dict(self) -> dict[str, Any]:
        return {"etag": self.etag, "id": self.id, "iri": self.iri, "competency": self.competency,
                "framework": self.framework, "notation": self.notation, "label": self.label, "score": self.score,
                "precision": self.precision, "status": self.status, "method": self.method,
                "evidence": self.evidence, "evidence_field": self.evidence_field,
                "query_span": list(self.query_span) if self.query_span else None}


@dataclass(frozen=True)
class QueueObjective(Record):
    """One objective of the queue with its alignments."""

    objective: str
    text: str
    course: str
    course_title: str
    year: int | None
    level: int | None
    alignments: tuple[QueueAlignment, ...]
    #: suggestions at or above the queue's minimum precision
    pending: int
    #: nothing accepted
    unmapped: bool

    @property
    def segments(self) -> list[tuple[str, bool]]:
        """The text cut around the evidence span of the first pending suggestion (else the first alignment)."""
        top = next((a for a in self.alignments if a.status == "suggested"), None) if self.pending else None
        top = top or (self.alignments[0] if self.alignments else None)
        return segments(self.text, top.query_span if top else None)

    def to_dict(self) -> dict[str, Any]:
        return {"objective": self.objective, "text": self.text, "course": self.course,
                "course_title": self.course_title, "year": self.year, "level": self.level,
                "pending": self.pending, "unmapped": self.unmapped,
                "alignments": [a.to_dict() for a in self.alignments]}


@dataclass(frozen=True)
class QueuePage(Record):
    """One page of the queue."""

    items: tuple[QueueObjective, ...]
    total: int
    page: int
    pages: int
    start: int

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "page": self.page, "pages": self.pages, "start": self.start,
                "items": [o.to_dict() for o in self.items]}


def segments(text_: str, span: Span | None) -> list[tuple[str, bool]]:
    """``text_`` cut around ``span``: [(part, highlighted), ...]."""
    if not span:
        return [(text_, False)]
    s, e = max(0, span[0]), min(len(text_), span[1])
    if s >= e:
        return [(text_, False)]
    return [(p, h) for p, h in ((text_[:s], False), (text_[s:e], True), (text_[e:], False)) if p]


def natural(v: object) -> list[int | str]:
    """A sort key comparing the numbers in ``v`` as numbers ("O2" before "O10")."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text(v))]


def _alignment(r: Row) -> QueueAlignment:
    iri = text(r["alignment"])
    start, end = opt_int(r.get("spanStart")), opt_int(r.get("spanEnd"))
    comp = text(r["comp"])
    return QueueAlignment(
        id=iri.rsplit("/", 1)[-1], iri=iri, etag=alignment_etag(iri, r["status"], [r.get("last")]),
        competency=comp, framework=comp.rsplit("/", 2)[-2] if comp.count("/") >= 2 else "",
        notation=text(r["notation"]), label=text(r["label"]), score=opt_float(r.get("score")),
        precision=opt_float(r.get("precision")), status=term_name(r["status"]), method=term_name(r["method"]),
        evidence=opt_text(r.get("evidence")), evidence_field=opt_text(r.get("field")),
        query_span=(start, end) if start is not None and end is not None else None)


def review_queue(store: Selecting, program_iri: URIRef, *, course: str | None = None, year: int | None = None,
                 status: str = "pending", min_precision: float = 0.0) -> list[QueueObjective]:
    """The objectives of a program (``program_iri``: ``ids.program(pid)``) with their alignments, in
    syllabus order, restricted to ``course`` and ``year`` when given, and to the objectives ``status``
    selects (see :data:`STATUS_FILTERS`; ``suggested``/``pending`` count suggestions whose expected
    precision is at least ``min_precision``)."""
    if status not in STATUS_FILTERS:
        raise QueueFilterError(f"status must be one of {', '.join(STATUS_FILTERS)}", field="status")
    heads: dict[str, Row] = {}
    aligned: dict[str, list[QueueAlignment]] = {}
    for r in store.select("review_queue", program=program_iri):
        if (course and r["code"] != course) or (year is not None and r["year"] != year):
            continue
        oid = text(r["oid"])
        heads.setdefault(oid, r)
        found = aligned.setdefault(oid, [])
        if r.get("alignment") is not None:
            found.append(_alignment(r))

    def key(oid: str) -> tuple[int, str, int, list[int | str], list[int | str]]:
        r = heads[oid]
        pos = opt_int(r.get("pos"))
        return (opt_int(r["year"]) or 0, text(r["code"]), -1 if pos is None else pos, natural(r.get("sid")),
                natural(oid))

    out: list[QueueObjective] = []
    for oid in sorted(heads, key=key):
        r = heads[oid]
        als = sorted(aligned[oid], key=lambda a: (a.status != "suggested", -(a.score or 0)))
        pending = [a for a in als if a.status == "suggested" and (a.precision or 0) >= min_precision]
        accepted = any(a.status == "accepted" for a in als)
        keep = {"all": True, "suggested": bool(pending), "unmapped": not accepted,
                "pending": bool(pending) or not accepted, "accepted": accepted,
                "rejected": any(a.status == "rejected" for a in als)}[status]
        if keep:
            out.append(QueueObjective(objective=oid, text=text(r["text"]), course=text(r["code"]),
                                      course_title=text(r["ctitle"]), year=opt_int(r["year"]),
                                      level=opt_int(r.get("olevel")), alignments=tuple(als), pending=len(pending),
                                      unmapped=not accepted))
    return out


def queue_page(items: list[QueueObjective], page: int | None, size: int) -> QueuePage:
    """Page ``page`` (1-based; clamped to the last) of ``size`` objectives."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page or 1, 1), pages)
    start = (page - 1) * size
    return QueuePage(tuple(items[start:start + size]), len(items), page, pages, start)


# One alignment ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlignmentDetail(Record):
    """An alignment with the graph that holds it (the first row of ``alignment_detail``)."""

    alignment: str
    g: str
    objective: str
    oid: str
    comp: str
    status: str
    method: str
    score: float | None
    precision: float | None
    model: str | None
    program: str
    last: str | None


def alignment(store: Selecting, alignment_iri: URIRef) -> AlignmentDetail | None:
    """One alignment (None: no such alignment)."""
    rows = store.select("alignment_detail", alignment=alignment_iri)
    if not rows:
        return None
    r = rows[0]
    return AlignmentDetail(text(r["alignment"]), text(r["g"]), text(r["objective"]), text(r["oid"]), text(r["comp"]),
                           text(r["status"]), text(r["method"]), opt_float(r.get("score")),
                           opt_float(r.get("precision")), opt_text(r.get("model")), text(r["program"]),
                           opt_text(r.get("last")))


@dataclass(frozen=True)
class AlignmentState(Record):
    """An alignment's review state and ETag (what a client sends back as If-Match with a decision)."""

    alignment: str
    status: str
    method: str
    objective: str
    competency: str
    program: str
    etag: str


def alignment_state(store: Selecting, alignment_iri: URIRef) -> AlignmentState:
    """The review state of one alignment (NotFound: no such alignment)."""
    rows = store.select("alignment_detail", alignment=alignment_iri)
    if not rows:
        raise NotFound(f"no alignment {alignment_iri}", field="alignment")
    r = rows[0]
    return AlignmentState(str(alignment_iri), term_name(r["status"]), term_name(r["method"]), text(r["oid"]),
                          text(r["comp"]), text(r["program"]), _etag_of(alignment_iri, rows))


def _etag_of(alignment_iri: URIRef, rows: list[Row]) -> str:
    """The ETag from an alignment's ``alignment_detail`` rows: its status and the last decisions in its graph."""
    g = rows[0]["g"]
    return alignment_etag(alignment_iri, rows[0]["status"], sorted({r["last"] for r in rows if r["g"] == g and r["last"]}))


@dataclass(frozen=True)
class ObjectiveAlignment(Record):
    """An alignment of one objective (any status), with its ETag when it is reviewable."""

    objective: str
    alignment: str
    etag: str | None
    comp: str
    notation: str
    label: str
    score: float | None
    precision: float | None
    status: str
    method: str
    model: str | None
    evidence: str | None
    rank: int | None
    generatedAt: str | None  # noqa: N815

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.alignment, "id": self.alignment.rsplit("/", 1)[-1], "etag": self.etag,
                "competency": self.comp, "notation": self.notation, "label": self.label, "score": self.score,
                "precision": self.precision, "status": term_name(self.status),
                "method": self.method.rsplit("#", 1)[-1], "model": self.model, "evidence": self.evidence,
                "rank": self.rank, "generated_at": self.generatedAt}


def current_etag(store: Selecting, alignment_iri: URIRef) -> str | None:
    """The alignment's ETag now (as ``GET /api/alignments/{id}`` gives it: its status and the last decisions
    in the graph that holds it); None when it is in no reviewable graph."""
    rows = store.select("alignment_detail", alignment=alignment_iri)
    return _etag_of(alignment_iri, rows) if rows else None


def objective_alignments(store: Selecting, objective_iri: URIRef) -> list[ObjectiveAlignment]:
    """Every alignment of an objective, best score first, each with its current ETag (None when the
    alignment is in no reviewable graph)."""
    rows = store.select("objective_alignments", objective=objective_iri)
    etags = {a: current_etag(store, URIRef(a)) for a in {text(r["alignment"]) for r in rows}}
    return [ObjectiveAlignment(text(r["objective"]), text(r["alignment"]), etags[text(r["alignment"])],
                               text(r["comp"]), text(r["notation"]), text(r["label"]), opt_float(r.get("score")),
                               opt_float(r.get("precision")), text(r["status"]), text(r["method"]),
                               opt_text(r.get("model")), opt_text(r.get("evidence")), opt_int(r.get("rank")),
                               opt_text(r.get("generatedAt")))
            for r in rows]


@dataclass(frozen=True)
class HistoryEntry(Record):
    """One review decision on an alignment."""

    decision: str
    user: str
    at: str
    previous: str | None
    new: str
    score: float | None
    model: str | None
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "user": self.user, "at": self.at,
                "previous": term_name(self.previous) if self.previous else None, "new": term_name(self.new),
                "score": self.score, "model": self.model, "note": self.note}


def alignment_history(store: Selecting, alignment_iri: URIRef) -> list[HistoryEntry]:
    """Every decision on an alignment, oldest first."""
    return [HistoryEntry(text(r["decision"]), text(r["user"]), text(r["at"]), opt_text(r.get("previous")),
                         text(r["new"]), opt_float(r.get("score")), opt_text(r.get("model")), opt_text(r.get("note")))
            for r in store.select("alignment_history", alignment=alignment_iri)]


# Syllabus versions ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SyllabusVersion(Record):
    """The stored (current) version of a course's syllabus."""

    version: int
    file: str
    at: str | None
    user: str | None
    objectives: int


def syllabus_versions(store: Selecting, course_iri: URIRef) -> list[SyllabusVersion]:
    return [SyllabusVersion(opt_int(r["version"]) or 0, text(r["file"]), opt_text(r.get("at")),
                            opt_text(r.get("user")), opt_int(r.get("objectives")) or 0)
            for r in store.select("course_syllabi", course=course_iri)]


@dataclass(frozen=True)
class SyllabusUpload(Record):
    """One entry of a course's upload history."""

    version: int
    file: str
    at: str | None
    user: str | None
    note: str | None


def syllabus_uploads(store: Selecting, course_iri: URIRef) -> list[SyllabusUpload]:
    """Every version ever uploaded, newest first."""
    return [SyllabusUpload(opt_int(r["version"]) or 0, text(r["file"]), opt_text(r.get("at")),
                           opt_text(r.get("user")), opt_text(r.get("note")))
            for r in store.select("course_uploads", course=course_iri)]
