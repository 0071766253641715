"""Server-rendered pages (the web UI) and the dereferenceable vocabulary.

The pages call the Python functions directly (gap_report, role_readiness, named queries); the
small scripts in ``static/`` talk to the JSON API for the actions (upload, review decisions)
and to ``/sparql``.  Nothing is fetched from the internet.
"""
from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, render_template, request
from rdflib import Graph
from werkzeug.exceptions import HTTPException

from ontology.errors import GapmapError
from ontology.read import catalog

from ..extensions import gapmap
from ..negotiation import best_match

bp = Blueprint("web", __name__)

STATUS_LABELS = {
    "covered": "Covered",
    "taught_not_assessed": "Taught, not assessed",
    "assessed_not_taught": "Assessed, not taught",
    "below_required_level": "Below required level",
    "not_taught": "Not taught",
}
#: the order statuses are listed in (legend, summary cards)
STATUS_SEQUENCE = ["covered", "taught_not_assessed", "assessed_not_taught", "below_required_level", "not_taught"]
READINESS_LABELS = {"ready": "Ready", "below_level": "Below level", "gap": "Gap"}


def short(iri) -> str:
    """The local name of an IRI (``gm:WrittenExam`` → ``WrittenExam``)."""
    return str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1] if iri else ""


@bp.app_template_filter("short")
def _short_filter(iri):
    return short(iri)


@bp.app_template_filter("pct")
def _pct_filter(x):
    return f"{x:.0f}%" if x is not None else "—"


@bp.app_context_processor
def _globals():
    """What every page's nav bar needs: the signed-in reviewer and the current program."""
    from flask import current_app
    if "gapmap" not in current_app.extensions:
        return {}
    from ..auth import current_user
    user = current_user()
    try:
        # nothing of an institution's data for a signed-out visitor (unless anonymous reading is on)
        programs = catalog.programs(gapmap().store) if user or current_app.config.get("PUBLIC_READ") else []
    except Exception:  # noqa: BLE001 - the nav bar must never break a page
        programs = []
    current = (request.view_args or {}).get("program") or request.args.get("program")
    if not current and programs:
        current = programs[0].id
    return {"current_user": user, "nav_programs": programs, "nav_program": current,
            "STATUS_LABELS": STATUS_LABELS, "STATUS_SEQUENCE": STATUS_SEQUENCE,
            "READINESS_LABELS": READINESS_LABELS}


@bp.errorhandler(GapmapError)
def _gapmap_error(e: GapmapError):
    """Errors inside a page are shown as a page (404 for unknown program, role, competency...)."""
    from service.errors import client_detail
    return render_template("error.html", status=e.status, title=e.title, detail=client_detail(e)), \
        e.status


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException):
    return render_template("error.html", status=e.code, title=e.name, detail=e.description), e.code or 500


@bp.get("/")
def home():
    ws = gapmap()
    return render_template("home.html", frameworks=catalog.frameworks(ws.store),
                           programs=catalog.programs(ws.store), roles=catalog.roles(ws.store))


_ONT = None


def vocabulary_graph() -> Graph:
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
    best = best_match(request.headers.get("Accept"), list(types), default="text/turtle")
    if request.args.get("format") in ("ttl", "turtle"):
        best = "text/turtle"
    g = vocabulary_graph()
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
