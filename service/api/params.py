"""Query-parameter parsing that names the bad field (400), and format negotiation."""
from __future__ import annotations

from flask import request

from ontology.errors import GapmapError
from service.negotiation import best_match


class BadParameter(GapmapError):
    status = 400
    title = "Bad parameter"


def arg_int(name: str, lo: int | None = None, hi: int | None = None) -> int | None:
    v = request.args.get(name)
    if v in (None, ""):
        return None
    try:
        n = int(v)
    except ValueError:
        raise BadParameter(f"{name} must be a whole number, got {v!r}", field=name) from None
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise BadParameter(f"{name} must be between {lo} and {hi}", field=name)
    return n


def arg_float(name: str, lo: float = 0.0, hi: float = 1.0) -> float | None:
    v = request.args.get(name)
    if v in (None, ""):
        return None
    try:
        x = float(v)
    except ValueError:
        raise BadParameter(f"{name} must be a number, got {v!r}", field=name) from None
    if not lo <= x <= hi:
        raise BadParameter(f"{name} must be between {lo} and {hi}", field=name)
    return x


FORMATS = {"json": "application/json", "csv": "text/csv", "ttl": "text/turtle", "turtle": "text/turtle",
           "jsonld": "application/ld+json", "nt": "application/n-triples"}


def negotiate(allowed: tuple[str, ...] = ("json", "csv", "ttl", "jsonld")) -> str:
    """The response format: ?format= wins, then the Accept header, then JSON."""
    fmt = request.args.get("format")
    if fmt:
        if fmt not in allowed:
            raise BadParameter(f"format must be one of {', '.join(allowed)}", field="format")
        return fmt
    best = best_match(request.headers.get("Accept"), [FORMATS[f] for f in allowed], default="application/json")
    return next(f for f in allowed if FORMATS[f] == best)


def json_body() -> dict:
    """The request's JSON object (or its form fields); anything else is a 400 naming the body."""
    body = request.get_json(silent=True)
    if body is None:
        body = request.form.to_dict() if request.form else {}
    if not isinstance(body, dict):
        raise BadParameter("the body must be a JSON object", field="body")
    return body
