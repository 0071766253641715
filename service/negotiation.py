"""HTTP content negotiation, one implementation for the whole service.

:func:`parse_accept` reads an ``Accept`` header; :func:`best_match` picks one of the media types a view
offers (the API's ``?format=``, ``/ns``, the SPARQL service description); :func:`sparql_formats` picks
the result formats of a SPARQL query (``Accept`` or the protocol's ``format``/``output`` parameter),
which the engine (:mod:`ontology.sparql`, no HTTP) then serialises.

The rule, everywhere: the client's media ranges are tried best first (by ``q``, then specificity, then
their order in the header); the first range that matches an offer picks it (``type/*`` and ``*/*``
pick the first matching offer in the view's order); ``q=0`` ranges are ignored.  No ``Accept`` header:
the view's default.  Nothing acceptable: the view's default, or ``None`` where the view answers 406.
"""
from __future__ import annotations

from collections.abc import Sequence

from ontology.sparql_formats import DEFAULT_FORMATS, GRAPH_MEDIA_TYPES, RESULTS_MEDIA_TYPES, NotAcceptable

__all__ = ["parse_accept", "best_match", "accepts_explicitly", "sparql_formats", "NotAcceptable"]


def parse_accept(accept: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header, best first (by q, then specificity, then order); q=0 dropped."""
    ranges = []
    for i, part in enumerate((accept or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        mt = fields[0].lower()
        if not mt:
            continue
        if "/" not in mt:
            mt = "*/*" if mt == "*" else mt
        q = 1.0
        for f in fields[1:]:
            k, _, v = f.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if q > 0:
            spec = 0 if mt == "*/*" else 1 if mt.endswith("/*") else 2
            ranges.append((-q, -spec, i, mt))
    return [(mt, -nq) for nq, _, _, mt in sorted(ranges)]


def best_match(accept: str | None, offers: Sequence[str], default: str | None = None) -> str | None:
    """The offer (a media type, from ``offers`` in the view's order of preference) that ``accept`` prefers;
    ``default`` when there is no header or nothing offered is acceptable."""
    if not accept or not accept.strip():
        return default
    lowered = {o.lower(): o for o in offers}
    for mt, _q in parse_accept(accept):
        if mt == "*/*":
            return offers[0] if offers else default
        if mt.endswith("/*"):
            hit = next((o for o in offers if o.lower().startswith(mt[:-1])), None)
        else:
            hit = lowered.get(mt)
        if hit is not None:
            return hit
    return default


def accepts_explicitly(accept: str | None, media_type: str) -> bool:
    """Whether ``accept`` names ``media_type`` itself with q > 0 (not merely via ``*/*``)."""
    return any(mt == media_type for mt, _q in parse_accept(accept))


# SPARQL result formats ---------------------------------------------------------------------------
# media types (and common aliases) accepted in Accept / format=, in order of our preference
_RESULTS_ACCEPT = {"application/sparql-results+json": "JSON", "application/json": "JSON",
                   "application/sparql-results+xml": "XML", "text/csv": "CSV",
                   "text/tab-separated-values": "TSV", "application/xml": "XML", "text/xml": "XML"}
_GRAPH_ACCEPT = {"text/turtle": "TURTLE", "application/x-turtle": "TURTLE",
                 "application/n-triples": "N_TRIPLES", "text/plain": "N_TRIPLES",
                 "application/rdf+xml": "RDF_XML", "application/xml": "RDF_XML", "text/xml": "RDF_XML",
                 "application/ld+json": "JSON_LD", "application/json": "JSON_LD"}
# short names for the ``format`` parameter: name -> (results format, graph format)
_FORMAT_NAMES = {"json": ("JSON", "JSON_LD"), "xml": ("XML", "RDF_XML"), "csv": ("CSV", None),
                 "tsv": ("TSV", None), "turtle": (None, "TURTLE"), "ttl": (None, "TURTLE"),
                 "nt": (None, "N_TRIPLES"), "ntriples": (None, "N_TRIPLES"), "n-triples": (None, "N_TRIPLES"),
                 "rdfxml": (None, "RDF_XML"), "rdf": (None, "RDF_XML"), "rdf+xml": (None, "RDF_XML"),
                 "jsonld": (None, "JSON_LD"), "json-ld": (None, "JSON_LD")}


def _pick(accept: str | None, table: dict[str, str], default: str) -> str | None:
    if not accept or not accept.strip():
        return default
    hit = best_match(accept, list(table))
    return table[hit] if hit is not None else None


def sparql_formats(form: str | None, accept: str | None = None, fmt: str | None = None) -> tuple[str | None, str | None]:
    """(results format, graph format) for a query of ``form`` ("SELECT", "ASK", "CONSTRUCT",
    "DESCRIBE" or None when unknown).  ``fmt`` (a short name or a media type) beats ``accept``.
    Raises :class:`NotAcceptable` when the form's kind of result has no acceptable format."""
    default_results, default_graph = DEFAULT_FORMATS
    if fmt:
        key = fmt.strip().lower()
        if key in _FORMAT_NAMES:
            res, graph = _FORMAT_NAMES[key]
        elif key in _RESULTS_ACCEPT or key in _GRAPH_ACCEPT:
            res, graph = _RESULTS_ACCEPT.get(key), _GRAPH_ACCEPT.get(key)
        else:
            names = ", ".join(sorted(_FORMAT_NAMES))
            raise NotAcceptable(f"unknown format {fmt!r}; use one of {names} or a media type", parameter="format")
        what = f"format={fmt}"
    else:
        res = _pick(accept, _RESULTS_ACCEPT, default_results)
        graph = _pick(accept, _GRAPH_ACCEPT, default_graph)
        what = f"Accept: {accept}"
    if form in ("SELECT", "ASK") and res is None:
        raise NotAcceptable(f"{what} names no format for {form} results; use one of "
                            + ", ".join(RESULTS_MEDIA_TYPES.values()))
    if form in ("CONSTRUCT", "DESCRIBE") and graph is None:
        raise NotAcceptable(f"{what} names no RDF format for {form} results; use one of "
                            + ", ".join(GRAPH_MEDIA_TYPES.values()))
    if form is None:  # unknown form (probably a syntax error): let either kind through
        res, graph = res or default_results, graph or default_graph
    return res, graph


def sparql_formats_for(accept: str | None, fmt: str | None):
    """The ``formats`` argument of :meth:`ontology.sparql.SparqlEngine.run` for this request."""
    return lambda form: sparql_formats(form, accept, fmt)
