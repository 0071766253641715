"""Result formats of the SPARQL engine (pure serialisation: no HTTP here).

Formats are named by the members of ``pyoxigraph.QueryResultsFormat`` (SELECT/ASK results) and
``pyoxigraph.RdfFormat`` (CONSTRUCT/DESCRIBE graphs); each has one canonical media type, which the
engine reports with the body.  Choosing a format from a request (``Accept``, ``format=``) is HTTP
content negotiation and lives in :mod:`service.negotiation`.
"""
from __future__ import annotations

from .errors import UnsupportedFormat

#: canonical media type of each format (names of ox.QueryResultsFormat / ox.RdfFormat members)
RESULTS_MEDIA_TYPES = {"JSON": "application/sparql-results+json", "XML": "application/sparql-results+xml",
                       "CSV": "text/csv", "TSV": "text/tab-separated-values"}
GRAPH_MEDIA_TYPES = {"TURTLE": "text/turtle", "N_TRIPLES": "application/n-triples",
                     "RDF_XML": "application/rdf+xml", "JSON_LD": "application/ld+json"}
#: (results format, graph format) when the caller names none
DEFAULT_FORMATS = ("JSON", "TURTLE")


class NotAcceptable(UnsupportedFormat):
    """No result format the client accepts fits the query form."""

    status = 406
    title = "Not acceptable"
