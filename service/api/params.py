"""Query-parameter parsing that names the bad field (400), and format negotiation."""
from __future__ import annotations

from flask import request

from loaders.safety import parse_json
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


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _body_error(msg, file=None, row=None):
    return BadParameter(msg, field="body")


def request_json():
    """The request body parsed by THE JSON rule of every upload (:func:`loaders.safety.parse_json`:
    not JSON, or nesting deeper than 200 levels, is a 400 naming the body, never a 500); ``None`` when
    there is no body or it is a form post.  A urlencoded body that starts like JSON (``curl -d '{...}'``
    sends that content type) is read as JSON."""
    if request.mimetype == "multipart/form-data":
        return None
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    if request.mimetype in _FORMS and raw.lstrip()[:1] not in (b"{", b"["):
        return None
    return parse_json(raw, what="the request body", error=_body_error)


def json_body() -> dict:
    """The request's JSON object (or its form fields); anything else is a 400 naming the body."""
    body = request_json()
    if body is None:
        body = request.form.to_dict() if request.form else {}
    if not isinstance(body, dict):
        raise BadParameter("the body must be a JSON object", field="body")
    return body
