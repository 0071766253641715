"""Turn an extracted syllabus into graph data: a versioned gm:Syllabus and its objectives.

Objective ids are derived from the course code and the normalised objective text, so an
objective that did not change between two versions keeps its id, its alignment IRIs, and
therefore the review decisions already taken on it.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from ontology.vocab import DCTERMS, GM, PROV, RDF, RDFS, SCHEMA, SKOS

from .base import Context, Delta


def objective_id(course_code: str, text: str) -> str:
    norm = re.sub(r"\s+", " ", text).strip().lower()
    return f"{course_code}-{hashlib.sha1(norm.encode()).hexdigest()[:10]}"


#: extracted assessment kinds (loaders.syllabus.ASSESSMENT_KINDS) -> the ontology's kinds of gm:Assessment;
#: kinds without one (assignment, presentation, participation) stay in the extraction output only
ASSESSMENT_CLASS = {"osce": GM.OSCEStation, "written exam": GM.WrittenExam, "portfolio": GM.Portfolio,
                    "workplace-based assessment": GM.WorkplaceBasedAssessment,
                    "preceptor evaluation": GM.WorkplaceBasedAssessment,
                    "professionalism": GM.WorkplaceBasedAssessment}
_BLOOM_RANK = {"remember": 1, "understand": 1, "apply": 2, "analyze": 2, "evaluate": 3, "create": 3}


def proficiency_level(bloom_level: str | None, year: int | None) -> int | None:
    """A target proficiency level (1-5) for an extracted objective: its Bloom level (remember/understand 1,
    apply/analyse 2, evaluate/create 3) raised by one from the third year of the programme (clinical years)
    and by two from the fifth; without a Bloom level, 1 in years 1-2 and 2 later.  A default a reviewer edits
    (it is stored as gm:targetLevel like a curated level), so a course can meet a role's required level."""
    base = _BLOOM_RANK.get((bloom_level or "").lower())
    bump = 0 if not year or year < 3 else (1 if year < 5 else 2)
    if base is None:
        return None if year is None else (1 if year < 3 else 2)
    return max(1, min(5, base + bump))


def assessment_id(course_code: str, kind: str, title: str) -> str:
    norm = re.sub(r"\s+", " ", f"{kind}|{title}").strip().lower()
    return f"{course_code}-a-{hashlib.sha1(norm.encode()).hexdigest()[:10]}"


def syllabus_delta(ctx: Context, extracted, *, program: str, course_code: str, course: URIRef | None,
                   version: int, filename: str, user: str, year: int | None = None,
                   title: str | None = None) -> Delta:
    """The syllabus graph (``graph/syllabus/{course}``): replaces the previous version's objectives."""
    ids = ctx.ids
    delta = Delta(columns={GM.text: "objective", GM.charStart: "char_start", GM.charEnd: "char_end"})
    g = delta.graph(ids.graph("syllabus", course_code))
    if course is None:  # a new course, created by its syllabus
        course = ids.course(course_code)
        g.add((course, RDF.type, GM.Course))
        g.add((course, RDF.type, SCHEMA.Course))
        g.add((course, SKOS.notation, Literal(course_code)))
        g.add((course, DCTERMS.title, Literal(title or extracted.title or course_code)))
        g.add((course, GM.partOfProgram, ids.program(program)))
        g.add((course, GM.year, Literal(year, datatype=XSD.integer)))
    s = ids.syllabus(course_code, str(version))
    agent = ids.agent(user)
    g.add((s, RDF.type, GM.Syllabus))
    g.add((s, RDF.type, PROV.Entity))
    g.add((s, GM.syllabusOf, course))
    g.add((s, DCTERMS.source, Literal(filename)))
    g.add((s, DCTERMS.hasVersion, Literal(version, datatype=XSD.integer)))
    g.add((s, DCTERMS.format, Literal(extracted.format)))
    if extracted.title:
        g.add((s, DCTERMS.title, Literal(extracted.title)))
    if extracted.language:
        g.add((s, DCTERMS.language, Literal(extracted.language)))
    g.add((s, PROV.generatedAtTime, Literal(datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                            datatype=XSD.dateTime)))
    g.add((s, PROV.wasAttributedTo, agent))
    g.add((agent, RDF.type, PROV.Person))
    g.add((agent, RDFS.label, Literal(user)))
    seen = set()
    for i, o in enumerate(extracted.objectives, start=1):
        oid = objective_id(course_code, o.text)
        if oid in seen:  # the same objective twice in one document counts once
            continue
        seen.add(oid)
        node = ids.objective(oid)
        g.add((node, RDF.type, GM.LearningObjective))
        g.add((node, SKOS.notation, Literal(oid)))
        g.add((node, GM.text, Literal(o.text)))
        g.add((node, GM.objectiveOf, course))
        g.add((node, GM.inCourse, course))
        g.add((node, GM.extractedFrom, s))
        g.add((node, GM.charStart, Literal(o.char_start, datatype=XSD.integer)))
        g.add((node, GM.charEnd, Literal(o.char_end, datatype=XSD.integer)))
        if o.page is not None:
            g.add((node, GM.page, Literal(o.page, datatype=XSD.integer)))
        if o.bloom_level:
            g.add((node, GM.bloomLevel, Literal(o.bloom_level)))
        level = proficiency_level(o.bloom_level, year)
        if level is not None:
            g.add((node, GM.targetLevel, Literal(level, datatype=XSD.integer)))
        delta.origin[node] = (filename, i)
    # The assessment/grading section: each component becomes a gm:Assessment of the course, replaced with the
    # syllabus version like the objectives.  A course-level assessment is taken to assess the course's
    # extracted objectives (gm:assessesObjective), so the course's aligned competencies count as assessed;
    # reviewers narrow that down.
    stored = 0
    objective_nodes = [ids.objective(oid) for oid in seen]
    for a in getattr(extracted, "assessments", ()) or ():
        cls = ASSESSMENT_CLASS.get(a.kind)
        if cls is None:
            continue
        aid = assessment_id(course_code, a.kind, a.title)
        node = ids.assessment(aid)
        if (node, RDF.type, GM.Assessment) in g:
            continue
        stored += 1
        g.add((node, RDF.type, GM.Assessment))
        g.add((node, RDF.type, cls))
        g.add((node, SKOS.notation, Literal(aid)))
        g.add((node, DCTERMS.title, Literal(a.title)))
        g.add((node, GM.assessmentIn, course))
        g.add((node, PROV.wasDerivedFrom, s))  # not gm:extractedFrom: its domain is gm:LearningObjective
        if a.weight is not None:
            g.add((node, GM.gradeWeight, Literal(f"{a.weight:.4f}", datatype=XSD.decimal)))
        if a.pass_fail:
            g.add((node, GM.passFail, Literal(True)))
        for on in objective_nodes:
            g.add((node, GM.assessesObjective, on))
    delta.summary = {"objectives": len(seen), "version": version, "assessments": stored}
    return delta
