"""Linked-data views of single resources (competency, course, objective, alignment) and the JSON-LD context.

Each resource answers JSON-LD (``application/ld+json``, also the default JSON body: it is plain JSON too),
Turtle or N-Triples by ``Accept`` or ``?format=``, with the IRIs the SPARQL endpoint uses.  Only triples in
public graphs are described.  The JSON-LD carries the Gapmap context inline (self-contained: a client needs
no fetch) and names the published copy in a ``Link`` header; ``?context=url`` gives ``"@context": "<url>"``.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, request, url_for

from ontology.errors import NotFound
from ontology.jsonld import context, describe, to_jsonld

from ..extensions import gapmap
from .blueprint import bp
from .params import negotiate

#: serves the context next to the vocabulary (/ns), outside /api
context_bp = Blueprint("ldcontext", __name__)


@context_bp.get("/ns/context.jsonld")
def jsonld_context():
    return Response(json.dumps(context(), indent=2), mimetype="application/ld+json",
                    headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=3600"})


def context_url() -> str:
    return url_for("ldcontext.jsonld_context", _external=True)


def linked_response(iris, what: str) -> Response:
    """The description of ``iris`` in the negotiated RDF format (404 when nothing is known about them)."""
    ws = gapmap()
    g = describe(ws.store, ws.ids, iris)
    if not len(g):
        raise NotFound(f"{what} is not loaded", field=what.split()[0])
    fmt = negotiate(("jsonld", "json", "ttl", "nt"))
    if fmt == "ttl":
        for p, ns in context()["@context"].items():
            if isinstance(ns, str) and ns.startswith("http"):
                g.bind(p, ns)
        return Response(g.serialize(format="turtle"), mimetype="text/turtle", headers={"Vary": "Accept"})
    if fmt == "nt":
        return Response(g.serialize(format="nt"), mimetype="application/n-triples", headers={"Vary": "Accept"})
    body = to_jsonld(g, context_url() if request.args.get("context") == "url" else None)
    mt = "application/ld+json" if fmt == "jsonld" else "application/json"
    return Response(body, mimetype=mt, headers={"Vary": "Accept",
                                                "Link": f'<{context_url()}>; rel="http://www.w3.org/ns/json-ld#context"'})


@bp.get("/competencies/<fw>/<notation>")
def competency_resource(fw, notation):
    """One competency as linked data (JSON-LD, Turtle, N-Triples)."""
    return linked_response([gapmap().ids.concept(fw, notation)], f"competency {fw}/{notation}")


@bp.get("/courses/<code>")
def course_resource(code):
    """One course as linked data (JSON-LD, Turtle, N-Triples)."""
    return linked_response([gapmap().ids.course(code)], f"course {code}")


@bp.get("/objectives/<oid>")
def objective_resource(oid):
    """One learning objective as linked data (JSON-LD, Turtle, N-Triples)."""
    return linked_response([gapmap().ids.objective(oid)], f"objective {oid}")


def alignment_resource(key) -> Response:
    """An alignment as linked data (``GET /api/alignments/{key}`` with an RDF format; plain JSON there is its
    review state, see ``review.alignment``)."""
    return linked_response([gapmap().ids.alignment_ref(key)], f"alignment {key}")
