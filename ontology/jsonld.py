"""JSON-LD for API resources: one published context, and the description of a resource from the public graphs.

The context (served at ``/ns/context.jsonld``) declares the vocabulary prefixes and a few short terms; every
JSON-LD document the API returns refers to it by URL, and uses the same IRIs as the SPARQL endpoint.
"""
from __future__ import annotations

import json

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from .access import is_private
from .ids import Ids
from .store import Store
from .vocab import CASE, PREFIXES

_IRI = {"@type": "@id"}


def context() -> dict:
    """The Gapmap JSON-LD context (JSON-LD 1.0 compatible)."""
    terms = {p: ns for p, ns in PREFIXES.items()}
    terms["case"] = str(CASE)
    terms.update({
        "id": "@id", "type": "@type",
        "notation": "skos:notation", "prefLabel": "skos:prefLabel", "altLabel": "skos:altLabel",
        "definition": "skos:definition", "broader": {"@id": "skos:broader", **_IRI},
        "inScheme": {"@id": "skos:inScheme", **_IRI}, "topConceptOf": {"@id": "skos:topConceptOf", **_IRI},
        "exactMatch": {"@id": "skos:exactMatch", **_IRI}, "title": "dcterms:title",
        "partOfProgram": {"@id": "gm:partOfProgram", **_IRI}, "partOfCourse": {"@id": "gm:partOfCourse", **_IRI},
        "year": {"@id": "gm:year", "@type": "xsd:integer"}, "text": "gm:text",
        "objectiveOf": {"@id": "gm:objectiveOf", **_IRI}, "inCourse": {"@id": "gm:inCourse", **_IRI},
        "targetLevel": {"@id": "gm:targetLevel", "@type": "xsd:integer"},
        "alignedObjective": {"@id": "gm:alignedObjective", **_IRI},
        "alignedCompetency": {"@id": "gm:alignedCompetency", **_IRI},
        "status": {"@id": "gm:status", **_IRI}, "method": {"@id": "gm:method", **_IRI},
        "score": {"@id": "gm:score", "@type": "xsd:decimal"},
        "reportFor": {"@id": "gm:reportFor", **_IRI}, "againstFramework": {"@id": "gm:againstFramework", **_IRI},
        "hasEntry": {"@id": "gm:hasEntry", **_IRI}, "entryCompetency": {"@id": "gm:entryCompetency", **_IRI},
        "gapStatus": {"@id": "gm:gapStatus", **_IRI}, "taughtBy": {"@id": "gm:taughtBy", **_IRI},
        "assessedBy": {"@id": "gm:assessedBy", **_IRI},
    })
    return {"@context": terms}


_DESCRIBE = """SELECT ?s ?g ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"""


def describe(store: Store, ids: Ids, iris, *, private: bool = False) -> Graph:
    """Every triple about ``iris`` (as subject) in the graphs the reader may see."""
    g = Graph()
    for iri in iris:
        for r in store.query(_DESCRIBE, {"s": URIRef(iri)}):
            if private or not is_private(ids, str(r["g"])):
                o = r["o"]
                if isinstance(o, Literal) and o.datatype == XSD.string:
                    o = Literal(str(o))  # RDF 1.1: the same literal; plain in JSON-LD and Turtle
                g.add((URIRef(iri), r["p"], o))
    return g


def to_jsonld(g: Graph, context_url: str | None = None) -> str:
    """``g`` compacted with the Gapmap context: inline (self-contained, the default), or named by
    ``context_url`` (the published copy) when given."""
    doc = json.loads(g.serialize(format="json-ld", context=context()["@context"], auto_compact=True))
    if context_url:
        doc["@context"] = context_url
    return json.dumps(doc, indent=2, ensure_ascii=False)
