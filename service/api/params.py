"""Query-parameter parsing that names the bad field (400), and format negotiation."""
from __future__ import annotations

from flask import request

from loaders.safety import check_text, parse_json
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
    body = parse_json(raw, what="the request body", error=_body_error)
    request._cached_json = (body, body)  # as get_json caches it (the audit log summarises the body from there)
    return body


class TooLong(GapmapError):
    status = 422
    title = "Invalid input"


def _too_long(msg, field):
    return TooLong(msg, field=field)


def check_lengths(body: dict) -> dict:
    """Every text field of a body within THE length rule of every input (``loaders.safety.max_length``:
    names 200, titles 500, texts 5,000 characters); else a 422 naming the field."""
    stack = [body]
    while stack:
        o = stack.pop()
        items = o.items() if isinstance(o, dict) else ()
        for k, v in items:
            if isinstance(v, str):
                check_text(v, str(k), _too_long)
            elif isinstance(v, dict):
                stack.append(v)
            elif isinstance(v, list):
                stack.extend(x for x in v if isinstance(x, dict))
                for x in v:
                    if isinstance(x, str):
                        check_text(x, str(k), _too_long)
    return body


def json_body() -> dict:
    """The request's JSON object (or its form fields); anything else is a 400 naming the body; a text
    field longer than the length rule allows is a 422 naming it; a field the endpoint does not take, a 400."""
    body = request_json()
    if body is None:
        body = request.form.to_dict() if request.form else {}
    if not isinstance(body, dict):
        raise BadParameter("the body must be a JSON object", field="body")
    return check_lengths(check_fields(body))


def _operation():
    """The ``OPERATIONS`` entry (service/api/openapi.py) of the request's endpoint, or None."""
    from .openapi import OPERATIONS
    return OPERATIONS.get((request.endpoint or "").removeprefix("api."))


def check_query() -> None:
    """A query parameter the operation does not declare (``OPERATIONS[...].query``) is a 400 naming it: a typo
    (``?yaer=2``) would otherwise answer the unfiltered report as if it had been applied.  Runs before every
    API view (service/api/__init__.py)."""
    op = _operation()
    if op is None or not request.args:
        return
    allowed = {p["name"] for p in op.query if p.get("in") == "query"}
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) if allowed else "no query parameters"
        raise BadParameter(f"unknown query parameter {unknown[0][:100]!r}: this operation takes {takes}",
                           field=unknown[0][:100])


def check_fields(body: dict) -> dict:
    """A field the endpoint's body shape (``OPERATIONS[...].body``, service/api/bodies.py) does not have is a
    400 naming it: an ignored option (``"preview": true`` sent to bulk-accept) must not let the write go ahead."""
    from .bodies import closed
    op = _operation()
    shape = op.body if op is not None else None
    if shape is None or not closed(shape):
        return body
    known = shape.__required_keys__ | shape.__optional_keys__
    unknown = sorted(str(k) for k in body if k not in known and k != "csrf_token")
    if unknown:
        raise BadParameter(f"unknown field {unknown[0]!r}: this request takes "
                           + (", ".join(sorted(known)) or "no fields"), field=unknown[0])
    return body
