"""The RDF shapes several loaders write, typed out once.

A framework (``gm:Framework``, a ``skos:ConceptScheme``), its concepts (a ``gm:Domain`` at the top or a
``gm:Competency`` below), a program, a course and a learning objective: each builder adds exactly the triples
``ontology/shapes.ttl`` expects of that node, so every loader that writes one writes the same thing.

Language tags: labels, definitions and objective texts are ``rdf:langString`` — tagged with the language the
source states, else ``en`` (:data:`DEFAULT_LANG`).  Titles and notations are plain strings.
"""
from __future__ import annotations

from collections.abc import Iterable

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from ontology.vocab import ACCEPTED, DCTERMS, GM, RDF, SCHEMA, SKOS

DEFAULT_LANG = "en"


def tagged(value: str, lang: str | None = None) -> Literal:
    """A language-tagged text: the source's language, else English."""
    return Literal(value, lang=lang or DEFAULT_LANG)


def add_framework(g: Graph, scheme: URIRef, *, notation: str, title: str, version: str | None = None,
                  source: Literal | URIRef | None = None) -> URIRef:
    """A competency framework: a gm:Framework and skos:ConceptScheme with its id and title."""
    g.add((scheme, RDF.type, GM.Framework))
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, SKOS.notation, Literal(notation)))
    g.add((scheme, DCTERMS.title, Literal(title)))
    if version:
        g.add((scheme, DCTERMS.hasVersion, Literal(str(version))))
    if source is not None:
        g.add((scheme, DCTERMS.source, source))
    return scheme


def add_concept(g: Graph, node: URIRef, scheme: URIRef, *, notation: str | None, domain: bool = False,
                top: bool | None = None, broader: Iterable[URIRef] | URIRef | None = None,
                label: str | Literal | None = None, definition: str | Literal | None = None,
                alt_labels: Iterable[str] = (), lang: str | None = None) -> URIRef:
    """A concept of a framework: a gm:Domain (a top concept by default) or a gm:Competency.

    ``label``, ``definition`` and ``alt_labels`` as text are tagged with ``lang`` (else English); a Literal
    is kept as it is (a SKOS file's own tags)."""
    g.add((node, RDF.type, SKOS.Concept))
    g.add((node, RDF.type, GM.Domain if domain else GM.Competency))
    g.add((node, SKOS.inScheme, scheme))
    if domain if top is None else top:
        g.add((node, SKOS.topConceptOf, scheme))
        g.add((scheme, SKOS.hasTopConcept, node))
    if notation is not None:
        g.add((node, SKOS.notation, Literal(notation)))
    for b in ([broader] if isinstance(broader, URIRef) else broader or ()):
        g.add((node, SKOS.broader, b))
    for pred, value in ((SKOS.prefLabel, label), (SKOS.definition, definition)):
        if value:
            g.add((node, pred, value if isinstance(value, Literal) else tagged(value, lang)))
    for alt in alt_labels:
        g.add((node, SKOS.altLabel, tagged(alt, lang)))
    return node


def add_program(g: Graph, program: URIRef, *, notation: str, title: str, framework: URIRef | None = None) -> URIRef:
    g.add((program, RDF.type, GM.Program))
    g.add((program, RDF.type, SCHEMA.EducationalOccupationalProgram))
    g.add((program, DCTERMS.title, Literal(title)))
    g.add((program, SKOS.notation, Literal(notation)))
    if framework is not None:
        g.add((program, GM.usesFramework, framework))
    return program


def add_course(g: Graph, course: URIRef, *, code: str, title: str, program: URIRef, year: int | None) -> URIRef:
    """A course of a program in a year (gm:Course, schema:Course)."""
    g.add((course, RDF.type, GM.Course))
    g.add((course, RDF.type, SCHEMA.Course))
    g.add((course, SKOS.notation, Literal(code)))
    g.add((course, DCTERMS.title, Literal(title)))
    g.add((course, GM.partOfProgram, program))
    g.add((course, GM.year, Literal(year, datatype=XSD.integer)))
    return course


def add_objective(g: Graph, node: URIRef, *, notation: str, text: str, course: URIRef, parent: URIRef | None = None,
                  lang: str | None = None, level: int | None = None) -> URIRef:
    """A learning objective of a course (or of a session of it: ``parent``), its text language-tagged."""
    g.add((node, RDF.type, GM.LearningObjective))
    g.add((node, SKOS.notation, Literal(notation)))
    g.add((node, GM.text, tagged(text, lang)))
    g.add((node, GM.objectiveOf, parent if parent is not None else course))
    g.add((node, GM.inCourse, course))
    if level is not None:
        g.add((node, GM.targetLevel, Literal(level, datatype=XSD.integer)))
    return node


def add_curator_alignment(g: Graph, ids, objective: URIRef, oid: str, competency: URIRef) -> URIRef:
    """A curator alignment from the input data: accepted, method curator, score 1."""
    a = ids.alignment(oid, str(competency))
    g.add((a, RDF.type, GM.Alignment))
    g.add((a, GM.alignedObjective, objective))
    g.add((a, GM.alignedCompetency, competency))
    g.add((a, GM.status, ACCEPTED))
    g.add((a, GM.method, GM.CuratorMethod))
    g.add((a, GM.score, Literal("1.0", datatype=XSD.decimal)))
    return a
