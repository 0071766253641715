"""Every error becomes an RFC 9457 problem+json response; 4xx for bad input, never a bare 500."""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from ontology.errors import GapmapError

log = logging.getLogger(__name__)


def problem(status: int, title: str, detail: str, **extra):
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


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(GapmapError)
    def _gapmap(e: GapmapError):
        d = e.to_dict()
        return problem(e.status, d.pop("title"), d.pop("detail"), **{k: v for k, v in d.items() if k != "status"})

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        if e.code == 413:
            return problem(413, e.name, too_large_detail())
        return problem(e.code or 500, e.name, e.description or e.name)

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        log.exception("unhandled error")
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged")
