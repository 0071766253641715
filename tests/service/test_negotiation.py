"""HTTP content negotiation (service/negotiation.py): the one Accept parser and matcher of the service."""
from __future__ import annotations

import pytest

from service.negotiation import NotAcceptable, accepts_explicitly, best_match, parse_accept, sparql_formats


# ------------------------------------------------------------------ SPARQL result formats
@pytest.mark.parametrize("form,accept,fmt,expected", [
    ("SELECT", None, None, ("JSON", "TURTLE")),
    ("SELECT", "*/*", None, ("JSON", "TURTLE")),
    ("SELECT", "text/csv;q=0.4, application/sparql-results+xml", None, ("XML", None)),
    ("CONSTRUCT", "text/*", None, ("CSV", "TURTLE")),
    ("CONSTRUCT", "application/json", None, ("JSON", "JSON_LD")),
    ("CONSTRUCT", "text/turtle", "jsonld", (None, "JSON_LD")),
    ("ASK", "text/turtle", "application/sparql-results+xml", ("XML", None)),
    (None, "image/png", None, ("JSON", "TURTLE")),
])
def test_sparql_formats(form, accept, fmt, expected):
    assert sparql_formats(form, accept, fmt) == expected


@pytest.mark.parametrize("form,accept,fmt", [
    ("SELECT", "text/turtle", None), ("CONSTRUCT", "text/csv", None), ("SELECT", None, "yaml"),
    ("DESCRIBE", None, "tsv"), ("ASK", "application/json;q=0", None),
])
def test_not_acceptable(form, accept, fmt):
    with pytest.raises(NotAcceptable):
        sparql_formats(form, accept, fmt)



# ------------------------------------------------------------------ the generic matcher
OFFERS = ["application/json", "text/csv", "text/turtle", "application/ld+json"]


@pytest.mark.parametrize("accept,expected", [
    (None, "DEFAULT"), ("", "DEFAULT"), ("image/png", "DEFAULT"),
    ("*/*", "application/json"),                                    # any: the view's first choice
    ("text/*", "text/csv"),                                         # first offer of that type
    ("text/turtle, application/ld+json", "text/turtle"),            # the client's order among equals
    ("text/turtle;q=0.5, application/ld+json", "application/ld+json"),  # q wins over order
    ("text/csv;q=0, */*;q=0.1", "application/json"),                # q=0 is "not this"
    ("TEXT/CSV", "text/csv"),                                       # media types are case-insensitive
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"),  # a browser
    ("application/ld+json; charset=utf-8; q=0.9, text/plain", "application/ld+json"),
])
def test_best_match(accept, expected):
    assert best_match(accept, OFFERS, default="DEFAULT") == expected


def test_parse_accept_orders_by_q_then_specificity_then_position():
    assert [m for m, _ in parse_accept("*/*;q=0.8, text/*, text/csv, application/json;q=bad")] == \
        ["text/csv", "text/*", "*/*"]


def test_accepts_explicitly():
    assert accepts_explicitly("text/html,*/*;q=0.8", "text/html")
    assert not accepts_explicitly("*/*", "text/html")
    assert not accepts_explicitly("text/html;q=0", "text/html")
