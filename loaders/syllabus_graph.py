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
        delta.origin[node] = (filename, i)
    delta.summary = {"objectives": len(seen), "version": version}
    return delta
