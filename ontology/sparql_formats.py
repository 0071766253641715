"""Result formats of the SPARQL engine: media types, ``Accept`` parsing and the choice of a format per
query form (split from ``ontology/sparql.py``)."""
from __future__ import annotations

from .errors import UnsupportedFormat



#: canonical media type of each format (names of ox.QueryResultsFormat / ox.RdfFormat members)
RESULTS_MEDIA_TYPES = {"JSON": "application/sparql-results+json", "XML": "application/sparql-results+xml",
                       "CSV": "text/csv", "TSV": "text/tab-separated-values"}
GRAPH_MEDIA_TYPES = {"TURTLE": "text/turtle", "N_TRIPLES": "application/n-triples",
                     "RDF_XML": "application/rdf+xml", "JSON_LD": "application/ld+json"}

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
_DEFAULT = {"results": "JSON", "graph": "TURTLE"}


def _parse_accept(accept: str) -> list[tuple[str, float]]:
    """Media ranges of an Accept header, best first (by q, then specificity, then order)."""
    ranges = []
    for i, part in enumerate(accept.split(",")):
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


def _pick(accept: str | None, table: dict[str, str], default: str) -> str | None:
    if not accept or not accept.strip():
        return default
    for mt, _q in _parse_accept(accept):
        if mt == "*/*":
            return default
        if mt.endswith("/*"):
            major = mt[:-1]
            for cand, fmt in table.items():
                if cand.startswith(major):
                    return fmt
            continue
        if mt in table:
            return table[mt]
    return None


def negotiate(form: str | None, accept: str | None = None, fmt: str | None = None) -> tuple[str | None, str | None]:
    """(results format, graph format) for a query of ``form`` ("SELECT", "ASK", "CONSTRUCT",
    "DESCRIBE" or None when unknown).  ``fmt`` (a short name or a media type) beats ``accept``.
    Raises :class:`NotAcceptable` when the form's kind of result has no acceptable format."""
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
        res = _pick(accept, _RESULTS_ACCEPT, _DEFAULT["results"])
        graph = _pick(accept, _GRAPH_ACCEPT, _DEFAULT["graph"])
        what = f"Accept: {accept}"
    if form in ("SELECT", "ASK") and res is None:
        raise NotAcceptable(f"{what} names no format for {form} results; use one of "
                            + ", ".join(RESULTS_MEDIA_TYPES.values()))
    if form in ("CONSTRUCT", "DESCRIBE") and graph is None:
        raise NotAcceptable(f"{what} names no RDF format for {form} results; use one of "
                            + ", ".join(GRAPH_MEDIA_TYPES.values()))
    if form is None:  # unknown form (probably a syntax error): let either kind through
        res, graph = res or _DEFAULT["results"], graph or _DEFAULT["graph"]
    return res, graph

class NotAcceptable(UnsupportedFormat):
    """No result format the client accepts fits the query form."""

    status = 406
    title = "Not acceptable"
