"""Server-rendered pages and the dereferenceable vocabulary."""
from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, render_template, request
from rdflib import Graph

from ..app import gapmap

bp = Blueprint("web", __name__)


@bp.get("/")
def home():
    ws = gapmap()
    return render_template("home.html", frameworks=ws.store.select("frameworks"),
                           programs=ws.store.select("programs"), roles=ws.store.select("roles"))


_ONT = None


def _ontology() -> Graph:
    global _ONT
    if _ONT is None:
        _ONT = Graph().parse(data=resources.files("ontology").joinpath("gapmap.ttl").read_text("utf-8"),
                             format="turtle")
    return _ONT


@bp.get("/ns")
def vocabulary():
    """The vocabulary: Turtle / RDF-XML / JSON-LD for machines, an HTML page for people."""
    types = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/ld+json": "json-ld",
             "application/n-triples": "nt", "text/html": None}
    best = request.accept_mimetypes.best_match(list(types), default="text/turtle")
    if request.args.get("format") in ("ttl", "turtle"):
        best = "text/turtle"
    g = _ontology()
    if best == "text/html":
        from rdflib.namespace import OWL, RDF, RDFS
        from ontology.vocab import GM_NS
        terms = []
        for kind, label in ((OWL.Class, "Classes"), (OWL.ObjectProperty, "Object properties"),
                            (OWL.DatatypeProperty, "Datatype properties"), (OWL.NamedIndividual, "Individuals")):
            rows = sorted({(str(s)[len(GM_NS):], str(g.value(s, RDFS.label) or ""), str(g.value(s, RDFS.comment) or ""),
                            ", ".join(sorted(str(o) for o in g.objects(s, RDFS.subClassOf) if not str(o).startswith(GM_NS))))
                           for s in g.subjects(RDF.type, kind) if str(s).startswith(GM_NS)})
            terms.append((label, rows))
        return render_template("vocabulary.html", sections=terms)
    return Response(g.serialize(format=types[best]), mimetype=best, headers={"Vary": "Accept"})
