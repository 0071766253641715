"""``/sparql``: the read-only SPARQL 1.1 Protocol endpoint (evaluation lives in ontology/sparql.py).

* ``GET /sparql?query=...`` and ``POST /sparql`` with ``application/x-www-form-urlencoded``
  (``query=...``) or ``application/sparql-query`` (the query as the body).
* ``default-graph-uri`` / ``named-graph-uri`` (repeatable) define the dataset; without them the
  default graph is the union of all graphs.
* Results by ``Accept`` or ``format`` (``json``, ``xml``, ``csv``, ``tsv``, ``turtle``, ``nt``,
  ``rdfxml``, ``jsonld`` or a media type).
* Updates (``update=`` or ``application/sparql-update``), LOAD and SERVICE: 400.  A query that
  runs longer than ``SPARQL_TIMEOUT`` seconds is stopped: 503.
"""
from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, redirect, request

from ontology.errors import QueryError, UnsupportedFormat
from ontology.sparql import SparqlEngine

from .app import gapmap

bp = Blueprint("sparql", __name__)

_EXT = "gapmap_sparql"
_lock = threading.Lock()
_FORM = "application/x-www-form-urlencoded"
_QUERY = "application/sparql-query"
_UPDATE = "application/sparql-update"


def sparql_engine() -> SparqlEngine:
    """The app's engine, created on first use with ``SPARQL_TIMEOUT`` (and optional
    ``SPARQL_WORKERS``, ``SPARQL_MAX_RESULT_BYTES``)."""
    ext = current_app.extensions
    eng = ext.get(_EXT)
    if eng is None:
        with _lock:
            eng = ext.get(_EXT)
            if eng is None:
                cfg = current_app.config
                eng = SparqlEngine(gapmap().store, timeout=cfg.get("SPARQL_TIMEOUT", 10.0),
                                   workers=cfg.get("SPARQL_WORKERS", 2),
                                   max_result_bytes=cfg.get("SPARQL_MAX_RESULT_BYTES", 128 * 2**20))
                ext[_EXT] = eng
    return eng


def _read_only():
    raise QueryError("SPARQL Update is not allowed: this endpoint is read-only; "
                     "send SELECT, ASK, CONSTRUCT or DESCRIBE queries with the 'query' parameter")


def _wants_html() -> bool:
    """A browser: text/html named explicitly (not merely matched by */*)."""
    return any(mt == "text/html" and q > 0 for mt, q in request.accept_mimetypes)


def _has_ui() -> bool:
    return any(r.rule == "/sparql/ui" for r in current_app.url_map.iter_rules())


@bp.after_request
def _cors(resp: Response) -> Response:
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers.setdefault("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
    resp.headers.setdefault("Access-Control-Allow-Headers", "Content-Type, Accept")
    resp.vary.add("Accept")
    return resp


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    if request.method == "GET":
        params = request.args
        query = params.get("query")
        if "update" in params:
            _read_only()
    else:
        ctype = request.mimetype
        if ctype == _FORM:
            params = request.form
            if "update" in params:
                _read_only()
            query = params.get("query")
            # dataset / format parameters may also sit in the URL
            params = params.copy()
            for k, vs in request.args.lists():
                if k not in params:
                    params.setlist(k, vs)
        elif ctype == _QUERY:
            params = request.args
            charset = (request.mimetype_params.get("charset") or "utf-8").lower()
            if charset not in ("utf-8", "utf8"):  # SPARQL Protocol: query strings are UTF-8 (bad_query_non_utf8)
                raise UnsupportedFormat(f"send the query as UTF-8, not {charset}", parameter="charset")
            query = request.get_data(as_text=True)
        elif ctype == _UPDATE:
            _read_only()
        else:
            raise UnsupportedFormat(f"POST a query as {_FORM} (query=...) or as {_QUERY}, not {ctype or 'no type'}")
    if len(params.getlist("query")) > 1:  # SPARQL Protocol: exactly one query (bad_multiple_queries)
        raise QueryError("send one 'query' parameter, not several", parameter="query")
    if query is None or not query.strip():
        if request.method == "GET" and not request.args and _wants_html() and _has_ui():
            return redirect("/sparql/ui", code=303)
        if request.method == "GET" and not request.args:  # SPARQL 1.1 Service Description
            from .sparql_sd import description_response
            return description_response()
        raise QueryError("missing the 'query' parameter: send ?query=<SPARQL> (GET), a form field 'query' "
                         f"or an {_QUERY} body (POST)", parameter="query")
    result = sparql_engine().run(
        query, accept=request.headers.get("Accept"), format=params.get("format") or params.get("output"),
        default_graph_uris=params.getlist("default-graph-uri"),
        named_graph_uris=params.getlist("named-graph-uri"))
    resp = Response(result.body, mimetype=result.media_type)
    resp.headers["Cache-Control"] = "no-store"
    return resp
