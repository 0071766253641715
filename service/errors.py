"""Every error becomes an RFC 9457 problem+json response; 4xx for bad input, never a bare 500.

Pages (any path outside ``/api`` and the SPARQL endpoint) answer an HTML error page with the same status,
title and detail when the client prefers HTML (a browser); machines keep problem+json everywhere.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from ontology.errors import GapmapError

log = logging.getLogger(__name__)


def wants_html() -> bool:
    """A page request from a browser: not the API or the SPARQL endpoint, and HTML preferred to JSON."""
    from .negotiation import best_match
    path = request.path
    if path == "/api" or path.startswith("/api/") or path == "/sparql":
        return False
    offers = ["application/problem+json", "application/json", "text/html"]
    return best_match(request.headers.get("Accept"), offers, default="application/problem+json") == "text/html"


def problem(status: int, title: str, detail: str, **extra):
    if wants_html():
        try:
            html = render_template("error.html", status=status, title=title, detail=detail)
        except Exception:  # noqa: BLE001 - the error page itself must never turn a 4xx into a 500
            log.exception("error page failed to render")
        else:
            resp = make_response(html, status)
            resp.headers["Vary"] = "Accept"
            return resp
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": request.path, **extra}
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    return resp


def too_large_detail() -> str:
    """The 413 message in our words, with the limit in MiB (werkzeug's says only "exceeds the capacity")."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return "the request is too large"
    return (f"the request is larger than the upload limit of {limit / 2**20:g} MiB "
            f"({limit:,} bytes); split the file or ask an administrator to raise GAPMAP_MAX_UPLOAD")


def client_detail(e: GapmapError) -> str:
    """An error's message as clients see it: a server-side failure's (5xx) may name files on the server
    (a closed store's folder): those paths are never shown."""
    if e.status < 500:
        return e.message
    import re
    # neither files nor the addresses of internal servers (a remote store, Redis) reach clients; the log has them
    text = re.sub(r"\b[a-z][a-z0-9+.\-]*://[^\s'\"<>,;()]+", "(server address)", e.message)
    return re.sub(r"(?<![\w:/])/(?:[\w.\-]+/)*[\w.\-]+", "(server path)", text)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(GapmapError)
    def _gapmap(e: GapmapError):
        d = e.to_dict()
        d.pop("detail")
        detail = client_detail(e)
        if e.status >= 500:  # the operator's copy, with the paths and addresses clients do not see
            app.logger.warning("%s %s: %s", e.status, request.path, e.message)
        return problem(e.status, d.pop("title"), detail, **{k: v for k, v in d.items() if k != "status"})

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        if e.code == 413:
            resp = problem(413, e.name, too_large_detail())
        else:
            resp = problem(e.code or 500, e.name, e.description or e.name)
        allow = getattr(e, "valid_methods", None)
        if allow and e.code == 405:  # keep the Allow header of a 405
            resp.headers["Allow"] = ", ".join(allow)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        log.exception("unhandled error")
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged")
