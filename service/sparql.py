"""``/sparql``: the read-only SPARQL 1.1 Protocol endpoint (evaluation lives in ontology/sparql.py).

* ``GET /sparql?query=...`` and ``POST /sparql`` with ``application/x-www-form-urlencoded``
  (``query=...``) or ``application/sparql-query`` (the query as the body).
* ``default-graph-uri`` / ``named-graph-uri`` (repeatable) define the dataset; without them the
  default graph is the union of all graphs the caller may see.
* Results by ``Accept`` or ``format`` (``json``, ``xml``, ``csv``, ``tsv``, ``turtle``, ``nt``,
  ``rdfxml``, ``jsonld`` or a media type).
* Updates (``update=`` or ``application/sparql-update``), LOAD and SERVICE: 400.  A query that
  runs longer than ``SPARQL_TIMEOUT`` seconds is stopped: 503.
* The query sees exactly the graphs the caller may read (``ontology.access.visible_graphs``:
  public graphs, plus the private ones for users holding ``read_private``); ``FROM``,
  ``FROM NAMED``, ``GRAPH`` and the protocol parameters cannot reach any other graph.
* Each caller (user, or client address when anonymous) runs at most ``SPARQL_PER_USER`` queries
  at once and the endpoint at most ``SPARQL_MAX_CONCURRENT`` (below the server's request
  threads, so slow queries never hold every thread): beyond that, 429 with ``Retry-After``.
* Over a remote store (``GAPMAP_STORE=http://…``) the query is checked here exactly as above (SERVICE,
  updates, and Virtuoso's ``bif:``/``sql:`` functions refused; parsed by Oxigraph, so only standard
  SPARQL goes on) and forwarded to the SPARQL server with the dataset in ``default-graph-uri`` /
  ``named-graph-uri`` (the visible graphs only; the query's own FROM clauses blanked out), under the
  same timeout (``ontology.sparql._RemoteExecutor``).
* No CORS by default.  ``CORS_ORIGINS`` (comma-separated origins) lets those origins read
  *public* answers (anonymous or non-private callers); never with credentials, never ``*``.
"""
from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager

from flask import Blueprint, Response, current_app, g, redirect, request

from ontology.access import visible_graphs
from ontology.errors import GapmapError, QueryError, UnsupportedFormat
from ontology.sparql import SparqlEngine

from .extensions import gapmap
from .auth import check, current_user
from .negotiation import accepts_explicitly, sparql_formats_for

bp = Blueprint("sparql", __name__)

_EXT = "gapmap_sparql"
_lock = threading.Lock()
_FORM = "application/x-www-form-urlencoded"
_QUERY = "application/sparql-query"
_UPDATE = "application/sparql-update"


class TooManyQueries(GapmapError):
    """Concurrency limit of the SPARQL endpoint reached (per caller or overall)."""

    status = 429
    exit_code = 5
    title = "Too many requests"


def sparql_engine() -> SparqlEngine:
    """The app's engine, created on first use with ``SPARQL_TIMEOUT`` (and optional
    ``SPARQL_WORKERS``, ``SPARQL_MAX_RESULT_BYTES``).  Queries always run in sandboxed worker
    processes (no network, killable): a timeout of 0 means one hour, not in-process."""
    # One engine per institution's store (tenants never share one); the default institution's is ext[_EXT].
    from .auth import current_institution
    ext = current_app.extensions
    inst = current_institution()
    engines = ext.setdefault(_EXT + "_tenants", {})
    eng = ext.get(_EXT) if inst == "default" else engines.get(inst)
    if eng is None:
        with _lock:
            eng = ext.get(_EXT) if inst == "default" else engines.get(inst)
            if eng is None:
                cfg = current_app.config
                eng = SparqlEngine(gapmap().store, timeout=cfg.get("SPARQL_TIMEOUT") or 3600.0,
                                   workers=cfg.get("SPARQL_WORKERS", 2),
                                   max_result_bytes=cfg.get("SPARQL_MAX_RESULT_BYTES", 128 * 2**20))
                if not eng.sandbox:
                    import logging
                    logging.getLogger(__name__).warning(
                        "no seccomp network sandbox on this platform: SPARQL relies on the SERVICE check alone")
                if inst == "default":
                    ext[_EXT] = eng
                else:
                    engines[inst] = eng
    return eng


class _Limiter:
    """In-flight queries per caller and overall (one process; each gunicorn worker has its own)."""

    def __init__(self, per_user: int, total: int):
        self.per_user, self.total = max(1, per_user), max(1, total)
        self._lock = threading.Lock()
        self._running: Counter = Counter()
        self._all = 0

    @contextmanager
    def slot(self, who: str):
        with self._lock:
            if self._running[who] >= self.per_user:
                raise TooManyQueries(f"you already have {self._running[who]} SPARQL queries running "
                                     f"(at most {self.per_user} at once); wait for one to finish",
                                     limit=self.per_user)
            if self._all >= self.total:
                raise TooManyQueries(f"the SPARQL endpoint is running its maximum of {self.total} queries; "
                                     "try again in a moment", limit=self.total)
            self._running[who] += 1
            self._all += 1
        try:
            yield
        finally:
            with self._lock:
                self._running[who] -= 1
                if self._running[who] <= 0:
                    del self._running[who]
                self._all -= 1


def _limiter() -> _Limiter:
    ext = current_app.extensions
    lim = ext.get(_EXT + "_limits")
    if lim is None:
        with _lock:
            lim = ext.get(_EXT + "_limits")
            if lim is None:
                cfg = current_app.config
                lim = ext[_EXT + "_limits"] = _Limiter(int(cfg.get("SPARQL_PER_USER", 2)),
                                                       int(cfg.get("SPARQL_MAX_CONCURRENT", 4)))
    return lim


def _cors_origins() -> set[str]:
    raw = current_app.config.get("CORS_ORIGINS") or ""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return {o.strip().rstrip("/") for o in items if o.strip() and o.strip() != "*"}


def _read_only():
    raise QueryError("SPARQL Update is not allowed: this endpoint is read-only; "
                     "send SELECT, ASK, CONSTRUCT or DESCRIBE queries with the 'query' parameter")


def _wants_html() -> bool:
    """A browser: text/html named explicitly (not merely matched by */*)."""
    return accepts_explicitly(request.headers.get("Accept"), "text/html")


def _has_ui() -> bool:
    return any(r.rule == "/sparql/ui" for r in current_app.url_map.iter_rules())


@bp.after_request
def _headers(resp: Response) -> Response:
    resp.vary.add("Accept")
    resp.vary.add("Origin")
    if resp.status_code == 429:
        resp.headers["Retry-After"] = "1"
    origin = (request.headers.get("Origin") or "").rstrip("/")
    # Only answers that hold public data only (no private graph was visible) may be shared.
    if origin and origin in _cors_origins() and not g.get("sparql_private", False):
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        resp.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    return resp


def _check_utf8() -> None:
    """The query string and a form or query body must be UTF-8 (SPARQL Protocol): Werkzeug would replace
    bad bytes with U+FFFD and answer a query nobody sent.  400 naming the parameter."""
    from urllib.parse import parse_qsl
    raw = [("url", request.query_string)]
    if request.method == "POST" and request.mimetype in (_FORM, _QUERY):
        raw.append(("body", request.get_data(cache=True)))  # cached: the form is parsed from it afterwards
    for where, data in raw:
        try:
            if where == "body" and request.mimetype == _QUERY:
                data.decode("utf-8")
            else:
                parse_qsl(data.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise QueryError(f"the query is not valid UTF-8 (in the {'request body' if where == 'body' else 'URL'})",
                             parameter="query") from None


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    """SPARQL 1.1 query over the public graphs (read-only; GET ?query= or POST form / application/sparql-query)."""
    _check_utf8()
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
    check("read")
    user = current_user()
    private = bool(user is not None and user.can("read_private"))
    g.sparql_private = private
    ws = gapmap()
    graphs = visible_graphs(ws.store, ws.ids, private=private)
    who = f"user:{user.name}" if user is not None else f"addr:{request.remote_addr}"
    with _limiter().slot(who):
        result = sparql_engine().run(
            query, formats=sparql_formats_for(request.headers.get("Accept"), params.get("format") or params.get("output")),
            default_graph_uris=params.getlist("default-graph-uri"),
            named_graph_uris=params.getlist("named-graph-uri"), visible_graphs=graphs)
    resp = Response(result.body, mimetype=result.media_type)
    resp.headers["Cache-Control"] = "no-store"
    return resp
