"""Frameworks, competencies, programs, courses, objectives, assessments and job roles, as typed rows.

Each function runs one named query (``ontology/queries/<name>.rq``) with its parameters bound.  Row
fields are the query's variables; ``to_dict()`` is what the API answers for the row.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rdflib import Literal, URIRef

from ..errors import NotFound

from ._base import Record, Row, Selecting, local_name, opt_float, opt_int, opt_text, split_list, term_name, text


def _hash_name(iri: object) -> str | None:
    """The name after ``#`` as written (``gm:WrittenExam`` → ``WrittenExam``); None for no IRI."""
    return str(iri).rsplit("#", 1)[-1] if iri else None


# Frameworks and competencies --------------------------------------------------------------------------
@dataclass(frozen=True)
class Framework(Record):
    framework: str
    id: str
    title: str
    version: str | None
    competencies: int | None
    domains: int | None

    @classmethod
    def of(cls, r: Row) -> Framework:
        return cls(text(r["framework"]), text(r["id"]), text(r["title"]), opt_text(r.get("version")),
                   opt_int(r.get("competencies")), opt_int(r.get("domains")))


def frameworks(store: Selecting) -> list[Framework]:
    """The loaded frameworks (with counts of competencies and domains)."""
    return [Framework.of(r) for r in store.select("frameworks")]


def framework(store: Selecting, fw: str) -> Framework | None:
    return next((f for f in frameworks(store) if f.id == fw), None)


@dataclass(frozen=True)
class FrameworkId(Record):
    framework: str
    id: str
    title: str | None


def framework_ids(store: Selecting) -> list[FrameworkId]:
    """Every framework's id (also those without a title), for pickers."""
    return [FrameworkId(text(r["framework"]), text(r["id"]), opt_text(r.get("title")))
            for r in store.select("framework_ids")]


@dataclass(frozen=True)
class Competency(Record):
    """A competency of a framework, with its domain."""

    fw: str
    comp: str
    notation: str
    label: str
    definition: str | None
    parent: str | None
    domain: str | None
    domainNotation: str | None  # noqa: N815  (the query's variable)
    domainLabel: str | None  # noqa: N815
    altLabels: str | None  # noqa: N815

    @property
    def alt_labels(self) -> tuple[str, ...]:
        return split_list(self.altLabels, " | ")

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.comp, "notation": self.notation, "label": self.label, "definition": self.definition,
                "alt_labels": list(self.alt_labels), "parent": self.parent, "domain": self.domainNotation,
                "domain_label": self.domainLabel}

    def matches(self, q: str) -> bool:
        """``q`` (lower case) occurs in the notation, label, definition or an alt label."""
        return q in " ".join([self.notation, self.label, self.definition or "", *self.alt_labels]).lower()


def framework_competencies(store: Selecting, fw: str, q: str | None = None) -> list[Competency]:
    """The competencies of framework ``fw`` (empty: not loaded); ``q`` filters by text (case-insensitive)."""
    rows = [Competency(text(r["fw"]), text(r["comp"]), text(r["notation"]), text(r["label"]),
                       opt_text(r.get("definition")), opt_text(r.get("parent")), opt_text(r.get("domain")),
                       opt_text(r.get("domainNotation")), opt_text(r.get("domainLabel")), opt_text(r.get("altLabels")))
            for r in store.select("framework_competencies", fw=Literal(fw))]
    q = (q or "").lower()
    return [c for c in rows if c.matches(q)] if q else rows


@dataclass(frozen=True)
class CompetencyHit(Record):
    fw: str
    comp: str
    notation: str
    label: str
    definition: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.comp, "framework": self.fw, "notation": self.notation, "label": self.label,
                "definition": self.definition}


def search_competencies(store: Selecting, q: str, framework: str | None = None) -> list[CompetencyHit]:
    """Competencies whose label, alt label or definition contains ``q`` (of ``framework`` when given)."""
    rows = store.select("search_competencies", q=Literal(q))
    return [CompetencyHit(text(r["fw"]), text(r["comp"]), text(r["notation"]), text(r["label"]),
                          opt_text(r.get("definition")))
            for r in rows if not framework or r["fw"] == framework]


@dataclass(frozen=True)
class CompetencyDetail(Record):
    fw: str
    notation: str
    comp: str
    label: str
    definition: str | None
    fwTitle: str | None  # noqa: N815
    parent: str | None
    parentNotation: str | None  # noqa: N815
    parentLabel: str | None  # noqa: N815
    domainNotation: str | None  # noqa: N815
    domainLabel: str | None  # noqa: N815
    altLabels: str | None  # noqa: N815

    @property
    def alt_labels(self) -> tuple[str, ...]:
        return split_list(self.altLabels, " | ")


def competency(store: Selecting, fw: str, notation: str) -> CompetencyDetail | None:
    """One competency by framework and notation (None: no such competency)."""
    rows = store.select("competency_detail", fw=Literal(fw), notation=Literal(notation))
    if not rows:
        return None
    r = rows[0]
    return CompetencyDetail(text(r["fw"]), text(r["notation"]), text(r["comp"]), text(r["label"]),
                            opt_text(r.get("definition")), opt_text(r.get("fwTitle")), opt_text(r.get("parent")),
                            opt_text(r.get("parentNotation")), opt_text(r.get("parentLabel")),
                            opt_text(r.get("domainNotation")), opt_text(r.get("domainLabel")),
                            opt_text(r.get("altLabels")))


@dataclass(frozen=True)
class Teaching(Record):
    """An objective aligned to a competency (any status)."""

    comp: str
    alignment: str
    objective: str
    oid: str
    text: str
    code: str
    ctitle: str
    year: int | None
    pid: str
    level: int | None
    status: str
    method: str
    score: float | None
    precision: float | None

    @property
    def status_name(self) -> str:
        return local_name(self.status).lower()

    @property
    def method_name(self) -> str:
        return local_name(self.method).replace("Method", "").lower()


def competency_teaching(store: Selecting, comp: str) -> list[Teaching]:
    """Where a competency is taught: accepted first, then by program, year, course, objective."""
    rows = [Teaching(text(r["comp"]), text(r["alignment"]), text(r["objective"]), text(r["oid"]), text(r["text"]),
                     text(r["code"]), text(r["ctitle"]), opt_int(r.get("year")), text(r["pid"]),
                     opt_int(r.get("level")), text(r["status"]), text(r["method"]), opt_float(r.get("score")),
                     opt_float(r.get("precision")))
            for r in store.select("competency_teaching", comp=URIRef(comp))]
    return sorted(rows, key=lambda t: (t.status_name != "accepted", t.pid, t.year or 0, t.code, t.oid))


@dataclass(frozen=True)
class CompetencyAssessment(Record):
    """An assessment of a competency: directly (``"direct"`` in ``vias``) and/or through objectives."""

    assessment: str
    aid: str
    title: str
    kind: str
    code: str | None
    year: int | None
    pid: str | None
    level: int | None
    vias: tuple[str, ...]
    oids: tuple[str, ...]

    @property
    def kind_name(self) -> str:
        return local_name(self.kind)


def competency_assessing(store: Selecting, comp: str) -> list[CompetencyAssessment]:
    """The assessments of a competency (one row per assessment, in the query's order)."""
    rows = store.select("competency_assessing", comp=URIRef(comp))
    first: dict[str, Row] = {}
    vias: dict[str, list[str]] = {}
    oids: dict[str, list[str]] = {}
    for r in rows:
        a = text(r["assessment"])
        first.setdefault(a, r)
        if r.get("via") is not None and str(r["via"]) not in vias.setdefault(a, []):
            vias[a].append(str(r["via"]))
        if r.get("oid") and str(r["oid"]) not in oids.setdefault(a, []):
            oids[a].append(str(r["oid"]))
    return [CompetencyAssessment(a, text(r["aid"]), text(r["title"]), text(r["kind"]), opt_text(r.get("code")),
                                 opt_int(r.get("year")), opt_text(r.get("pid")), opt_int(r.get("level")),
                                 tuple(vias.get(a, ())), tuple(sorted(oids.get(a, ()))))
            for a, r in first.items()]


@dataclass(frozen=True)
class CompetencyRole(Record):
    comp: str
    role: str
    rid: str
    title: str
    track: str | None
    level: int | None
    relation: str
    importance: float | None

    @property
    def relation_name(self) -> str:
        return local_name(self.relation).lower()

    @property
    def track_name(self) -> str:
        return local_name(self.track).replace("Track", "")


def competency_roles(store: Selecting, comp: str) -> list[CompetencyRole]:
    """The job roles that require a competency."""
    return [CompetencyRole(text(r["comp"]), text(r["role"]), text(r["rid"]), text(r["title"]),
                           opt_text(r.get("track")), opt_int(r.get("level")), text(r["relation"]),
                           opt_float(r.get("importance")))
            for r in store.select("competency_roles", comp=URIRef(comp))]


@dataclass(frozen=True)
class Milestone(Record):
    comp: str
    milestone: str
    rank: int | None
    levelLabel: str | None  # noqa: N815
    label: str | None
    definition: str | None


def competency_milestones(store: Selecting, comp: str) -> list[Milestone]:
    return [Milestone(text(r["comp"]), text(r["milestone"]), opt_int(r.get("rank")), opt_text(r.get("levelLabel")),
                      opt_text(r.get("label")), opt_text(r.get("definition")))
            for r in store.select("competency_milestones", comp=URIRef(comp))]


@dataclass(frozen=True)
class Narrower(Record):
    comp: str
    child: str
    notation: str
    label: str


def competency_narrower(store: Selecting, comp: str) -> list[Narrower]:
    """The sub-competencies of a competency, by notation."""
    return [Narrower(text(r["comp"]), text(r["child"]), text(r["notation"]), text(r["label"]))
            for r in store.select("competency_narrower", comp=URIRef(comp))]


# Programs, courses, objectives, assessments -----------------------------------------------------------
@dataclass(frozen=True)
class Program(Record):
    program: str
    id: str
    title: str
    framework: str | None
    fw: str | None
    courses: int | None
    objectives: int | None


def programs(store: Selecting) -> list[Program]:
    """The loaded programs, with the framework each uses and their counts."""
    return [Program(text(r["program"]), text(r["id"]), text(r["title"]), opt_text(r.get("framework")),
                    opt_text(r.get("fw")), opt_int(r.get("courses")), opt_int(r.get("objectives")))
            for r in store.select("programs")]


def program(store: Selecting, pid: str) -> Program | None:
    return next((p for p in programs(store) if p.id == pid), None)


@dataclass(frozen=True)
class Course(Record):
    pid: str
    program: str
    course: str
    code: str
    title: str
    year: int

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.course, "code": self.code, "title": self.title, "year": self.year}


def program_courses(store: Selecting, pid: str) -> list[Course]:
    """The courses of a program (empty: not loaded)."""
    return [Course(text(r["pid"]), text(r["program"]), text(r["course"]), text(r["code"]), text(r["title"]),
                   opt_int(r.get("year")) or 0)
            for r in store.select("program_courses", pid=Literal(pid))]


def courses_by_year(courses: list[Course]) -> list[tuple[int, list[Course]]]:
    """Courses grouped by year, each year's by code."""
    out: dict[int, list[Course]] = {}
    for c in sorted(courses, key=lambda c: (c.year, c.code)):
        out.setdefault(c.year, []).append(c)
    return list(out.items())


@dataclass(frozen=True)
class CourseDetail(Record):
    code: str
    course: str
    title: str
    year: int | None
    program: str
    pid: str


def course(store: Selecting, code: str) -> CourseDetail | None:
    """A course by code (None: no such course)."""
    rows = store.select("course_detail", code=Literal(code))
    if not rows:
        return None
    r = rows[0]
    return CourseDetail(text(r["code"]), text(r["course"]), text(r["title"]), opt_int(r.get("year")),
                        text(r["program"]), text(r["pid"]))


@dataclass(frozen=True)
class Assessment(Record):
    program: str
    assessment: str
    aid: str
    title: str
    kind: str
    course: str
    code: str
    level: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.assessment, "id": self.aid, "title": self.title, "kind": _hash_name(self.kind),
                "course": self.code, "level": self.level}


def program_assessments(store: Selecting, program_iri: URIRef) -> list[Assessment]:
    """The assessments of a program's courses (``program_iri``: ``ids.program(pid)``)."""
    return [Assessment(text(r["program"]), text(r["assessment"]), text(r["aid"]), text(r["title"]), text(r["kind"]),
                       text(r["course"]), text(r["code"]), opt_int(r.get("level")))
            for r in store.select("program_assessments", program=program_iri)]


@dataclass(frozen=True)
class Objective(Record):
    objective: str
    oid: str
    text: str
    course: str
    code: str
    title: str
    year: int | None
    program: str
    pid: str
    level: int | None


def objective(store: Selecting, objective_iri: URIRef) -> Objective | None:
    """A learning objective with its course and program (None: no such objective)."""
    rows = store.select("objective_detail", objective=objective_iri)
    if not rows:
        return None
    r = rows[0]
    return Objective(text(r["objective"]), text(r["oid"]), text(r["text"]), text(r["course"]), text(r["code"]),
                     text(r["title"]), opt_int(r.get("year")), text(r["program"]), text(r["pid"]),
                     opt_int(r.get("level")))


def objective_course(store: Selecting, objective_iri: URIRef) -> str:
    """The course code of an objective; "" when it has none (or does not exist)."""
    rows = store.select("objective_course", objective=objective_iri)
    return text(rows[0]["code"]) if rows else ""


# Job roles --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Role(Record):
    role: str
    id: str
    title: str
    track: str | None
    definition: str | None
    next: str | None
    requirements: int | None

    @property
    def next_ids(self) -> tuple[str, ...]:
        return split_list(self.next, ";")

    @property
    def track_name(self) -> str:
        return local_name(self.track).replace("Track", "")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "track": _hash_name(self.track), "next": list(self.next_ids)}


def roles(store: Selecting) -> list[Role]:
    """The job roles, each with the roles it leads to and its number of requirements."""
    return [Role(text(r["role"]), text(r["id"]), text(r["title"]), opt_text(r.get("track")),
                 opt_text(r.get("definition")), opt_text(r.get("next")), opt_int(r.get("requirements")))
            for r in store.select("roles")]


@dataclass(frozen=True)
class RoleRequirement(Record):
    rid: str
    role: str
    title: str
    fw: str
    comp: str
    notation: str
    label: str
    level: int | None
    relation: str
    importance: float | None
    stage: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"competency": self.comp, "framework": self.fw, "notation": self.notation, "label": self.label,
                "required_level": self.level, "relation": term_name(self.relation),
                "importance": self.importance}


def role_requirements(store: Selecting, rid: str) -> list[RoleRequirement]:
    """What a role requires (empty: no such role)."""
    return [RoleRequirement(text(r["rid"]), text(r["role"]), text(r["title"]), text(r["fw"]), text(r["comp"]),
                            text(r["notation"]), text(r["label"]), opt_int(r.get("level")), text(r["relation"]),
                            opt_float(r.get("importance")), opt_text(r.get("stage")))
            for r in store.select("role_requirements", rid=Literal(rid))]


def program_framework(store: Selecting, pid: str) -> str:
    """The framework a program uses (NotFound: the program is not loaded, or names no framework)."""
    p = program(store, pid)
    if p is None:
        raise NotFound(f"program {pid!r} is not loaded", field="program")
    if not p.fw:
        raise NotFound(f"program {pid!r} names no framework; give one", field="framework")
    return p.fw
