"""The SPARQL 1.1 Service Description of ``/sparql`` (answered to a GET without a query).

https://www.w3.org/TR/sparql11-service-description/: the endpoint, the language (SPARQL 1.1 Query only: the
endpoint is read-only), result formats, the union default graph, and the named graphs a reader may query.
"""
from __future__ import annotations

from flask import Response, request
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from ontology.access import visible_graphs

from .negotiation import best_match

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
ENTAILMENT = Namespace("http://www.w3.org/ns/entailment/")
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "RDF_XML", "JSON-LD")
#: Accept -> rdflib serializer
SD_TYPES = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/ld+json": "json-ld",
            "application/n-triples": "nt", "application/json": "json-ld"}  # plain JSON: the JSON-LD form


def service_description(store, ids, endpoint: str, *, private: bool = False) -> Graph:
    """The description; ``private``: the caller may read private graphs, so they are listed too (as queried)."""
    g = Graph()
    g.bind("sd", SD)
    g.bind("formats", FORMATS)
    svc, ep = URIRef(endpoint), URIRef(endpoint)
    g.add((svc, RDF.type, SD.Service))
    g.add((svc, SD.endpoint, ep))
    g.add((svc, SD.supportedLanguage, SD.SPARQL11Query))
    for f in RESULT_FORMATS:
        g.add((svc, SD.resultFormat, FORMATS[f]))
    g.add((svc, SD.feature, SD.UnionDefaultGraph))
    g.add((svc, SD.defaultEntailmentRegime, ENTAILMENT.Simple))
    ds = BNode("dataset")
    g.add((svc, SD.defaultDataset, ds))
    g.add((ds, RDF.type, SD.Dataset))
    default = BNode("default")
    g.add((ds, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    for name in visible_graphs(store, ids, private=private):
        ng = BNode()
        g.add((ds, SD.namedGraph, ng))
        g.add((ng, RDF.type, SD.NamedGraph))
        g.add((ng, SD.name, URIRef(name)))
    g.add((svc, URIRef("http://purl.org/dc/terms/description"),
           Literal("Gapmap read-only SPARQL 1.1 endpoint: the default graph is the union of the named graphs the caller may see (listed here); "
                   "SPARQL Update, LOAD and SERVICE are refused.", lang="en")))
    return g


def description_response() -> Response:
    from .extensions import gapmap
    ws = gapmap()
    best = best_match(request.headers.get("Accept"), list(SD_TYPES), default="text/turtle")
    from .auth import current_user
    user = current_user()
    private = bool(user is not None and user.can("read_private"))  # the graphs this caller's queries see
    g = service_description(ws.store, ws.ids, request.base_url, private=private)
    headers = {"Vary": "Accept, Authorization, Cookie"}
    if user is not None:
        headers["Cache-Control"] = "private"
    return Response(g.serialize(format=SD_TYPES[best]), mimetype=best, headers=headers)
