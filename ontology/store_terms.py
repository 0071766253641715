"""What the store implementations share below the contract: named query texts, parameter binding as a
``VALUES`` block, and RDF terms and values (rdflib <-> Oxigraph terms, the one term -> Python value
converter, quads as SPARQL data).  Kept apart from ontology/store.py so the contract module stays the
contract and the embedded store."""
from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef

from .errors import LoadError, NotFound, QueryError


@lru_cache(maxsize=None)
def load_query(name: str) -> str:
    """The text of ``ontology/queries/<name>.rq``."""
    try:
        return resources.files("ontology.queries").joinpath(f"{name}.rq").read_text("utf-8")
    except FileNotFoundError:
        raise NotFound(f"no query named {name!r}") from None


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def values_block(query: str, subs: Mapping) -> str:
    """``query`` with its bindings as a ``VALUES`` block opening the WHERE clause.

    Used for queries marked ``# bind: values``: Oxigraph's optimiser does not see substituted
    variables as bound, so it may plan a join from the other end (scanning the store); a VALUES
    block makes it start from the bound term.  The terms are serialised by pyoxigraph (N-Triples
    escaping of an already-built ``NamedNode``/``Literal``), never by formatting raw input.
    """
    if not subs:
        return query
    names = " ".join(f"?{v.value}" for v in subs)
    row = " ".join(str(t) for t in subs.values())
    m = _WHERE.search(strip_comments(query))
    if m is None:
        raise QueryError("a '# bind: values' query needs a WHERE clause")
    return f"{query[:m.end()]} VALUES ({names}) {{ ({row}) }}{query[m.end():]}"


def strip_comments(query: str) -> str:
    # same length as the input, so positions match; only whole-line comments are used in our .rq files
    return "\n".join(" " * len(line) if line.lstrip().startswith("#") else line for line in query.split("\n"))


# ------------------------------------------------------------------------------------------------
# Terms and values: rdflib <-> Oxigraph terms, and the one RDF term -> Python value converter
# ------------------------------------------------------------------------------------------------
_OX_TERMS = (ox.NamedNode, ox.BlankNode, ox.Literal)


def to_ox(term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An Oxigraph term for an rdflib (or Oxigraph) term."""
    if isinstance(term, _OX_TERMS):
        return term
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def from_ox(t):
    """The rdflib term for an Oxigraph term."""
    if isinstance(t, ox.NamedNode):
        return URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return BNode(t.value)
    if t.language:
        return Literal(t.value, lang=t.language)
    return Literal(t.value, datatype=URIRef(t.datatype.value))


_XSD = "http://www.w3.org/2001/XMLSchema#"
_CASTS = {_XSD + "integer": int, _XSD + "int": int, _XSD + "long": int, _XSD + "decimal": float,
          _XSD + "double": float, _XSD + "float": float, _XSD + "boolean": lambda v: v in ("true", "1")}


def to_python(t):
    """The plain Python value of an RDF term, as every ``Store.select`` row holds it (the one converter).

    IRIs -> ``str``; blank nodes -> ``"_:id"``; numeric and boolean literals -> ``int``/``float``/``bool``
    (the lexical form when it does not parse); every other literal -> its lexical form; ``None`` -> ``None``.
    Accepts Oxigraph terms, rdflib terms and SPARQL JSON result cells (``{"type": ..., "value": ...}``).
    """
    if t is None:
        return None
    if isinstance(t, dict):  # a SPARQL 1.1 JSON results cell
        kind, value = t.get("type"), t["value"]
        if kind == "uri":
            return value
        if kind == "bnode":
            return f"_:{value}"
        datatype = t.get("datatype", "")
    elif isinstance(t, ox.Literal):
        value, datatype = t.value, t.datatype.value
    elif isinstance(t, Literal):
        value, datatype = str(t), str(t.datatype or "")
    elif isinstance(t, (ox.BlankNode, BNode)):
        return f"_:{t.value if isinstance(t, ox.BlankNode) else t}"
    elif isinstance(t, ox.NamedNode):
        return t.value
    else:
        return str(t)
    cast = _CASTS.get(datatype)
    if cast is not None:
        try:
            return cast(value)
        except ValueError:
            return value
    return value


def g_is_iri(name) -> bool:
    return isinstance(name, URIRef) and ">" not in name and " " not in name


def quad_block(quads) -> str:
    """Quads as SPARQL data (pyoxigraph's N-Triples serialisation of each term)."""
    by_graph: dict = {}
    for q in quads:
        by_graph.setdefault(q.graph_name, []).append(f"{q.subject} {q.predicate} {q.object} .")
    return " ".join(f"GRAPH {g} {{ {' '.join(lines)} }}" for g, lines in by_graph.items())


def as_quads(quads, conv=to_ox) -> list[ox.Quad]:
    """``(s, p, o, g)`` tuples as Oxigraph quads; a term Oxigraph refuses is bad input (LoadError)."""
    out = []
    for s, p, o, g in quads:
        try:
            out.append(ox.Quad(conv(s), conv(p), conv(o), ox.NamedNode(str(g))))
        except (ValueError, TypeError) as e:
            bad = next((t for t in (s, p, o, g) if not _valid(t)), s)
            raise LoadError(f"cannot store {str(bad)[:200]!r}: {e}") from None
    return out


def _valid(term) -> bool:
    try:
        to_ox(term) if not isinstance(term, str) or isinstance(term, URIRef) else ox.NamedNode(term)
        return True
    except (ValueError, TypeError):
        return False


def data_ops(deletes: list, inserts: list) -> list[str]:
    ops = []
    if deletes:
        ops.append("DELETE DATA { " + quad_block(deletes) + " }")
    if inserts:
        ops.append("INSERT DATA { " + quad_block(inserts) + " }")
    return ops


_VERBATIM = {_XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
_canon_lock = threading.Lock()
_canon: dict = {}  # literal -> the literal as Oxigraph stores it (bounded: cleared when large)


def canonical(literals) -> dict:
    """``{literal: stored}`` for the typed literals among ``literals`` that Oxigraph stores differently.

    Oxigraph keeps numbers, dates and booleans in their canonical form ("1.50"^^xsd:decimal is read back
    as "1.5", "01"^^xsd:integer as "1"); a store that remembers what it wrote must remember that form,
    or its next diff would delete a triple that is not there.  Each distinct literal is sent once through
    an in-memory Oxigraph store (the same encoding as on disk) and the answer is cached.
    """
    with _canon_lock:  # one lock around lookup and fill: a concurrent clear() never loses an answer
        todo = [t for t in literals if t.datatype.value not in _VERBATIM and t not in _canon]
        if todo:
            if len(_canon) + len(todo) > 200_000:
                _canon.clear()
                todo = [t for t in literals if t.datatype.value not in _VERBATIM]
            scratch = ox.Store()
            p, g = ox.NamedNode("urn:gapmap:canon"), ox.DefaultGraph()
            scratch.extend(ox.Quad(ox.NamedNode(f"urn:gapmap:canon:{i}"), p, t, g) for i, t in enumerate(todo))
            for q in scratch:
                _canon[todo[int(q.subject.value.rsplit(":", 1)[1])]] = q.object
        return {t: c for t in literals if t.datatype.value not in _VERBATIM and (c := _canon[t]) != t}
