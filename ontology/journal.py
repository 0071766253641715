"""Bringing a cached query result up to a newer store generation from the store's journal.

A store that knows what each write changed (:meth:`ontology.store.Store.changes_between`: per write, the
``(subject, predicate, object-if-rdf:type)`` triples it deleted or inserted) lets a cache avoid reading a
whole result again after a write:

* **unaffected** (:func:`unaffected`): no changed triple has a predicate (or, for ``rdf:type``, a class) that
  any pattern of the query mentions, so the query's answer cannot have changed: the entry is kept as is.
* **patched** (:func:`patch_rows`), for *row-local* queries only (basic graph patterns, joins and OPTIONALs
  under a plain projection: no DISTINCT, grouping, UNION, FILTER or property path) whose every pattern
  subject is a projected variable: a row of such a query is a match of its patterns, so a row can appear,
  vanish or change only when one of the triples it matched (or an OPTIONAL one it could match) changed,
  and that triple's subject is the value of a projected variable of the row.  The rows holding a changed
  subject are dropped and read again with that subject bound; every other row is kept.  The result is the
  multiset of rows a full read would give at the store's current state (the order differs: callers must
  not depend on it).

Anything else (a change the analysis cannot place, too many subjects, a blank-node subject) answers None
and the caller reads the whole result again.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

from rdflib import RDF, URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath

from .store_terms import load_query

#: more changed subjects than this in one patch: reading the whole result again is as cheap
PATCH_MAX_SUBJECTS = 64

#: algebra operators under which each row is a match of the patterns, and nothing else
_ROW_LOCAL = {"SelectQuery", "Project", "BGP", "Join", "LeftJoin", "TrueFilter"}
_TYPE = str(RDF.type)


@dataclass(frozen=True)
class Deps:
    """What a named query's answer can depend on."""

    #: predicate IRI -> the variables that are subjects of its patterns (None: a subject that is not a
    #: projected variable, or the predicate sits in a property path: changes to it cannot be placed in rows)
    preds: dict
    #: the classes of its ``rdf:type`` patterns; None when one has a variable class (any class matters)
    types: frozenset | None
    #: a variable predicate or a negated path: any change may matter
    any_pred: bool
    #: rows can be patched per changed subject (see the module docstring)
    row_local: bool


#: rdflib's SPARQL parser (pyparsing) is not thread-safe: two threads parsing at once fail
_PARSE_LOCK = threading.Lock()


@lru_cache(maxsize=None)
def query_deps(name: str) -> Deps:
    """The :class:`Deps` of ``queries/<name>.rq``, from its SPARQL algebra (rdflib's parser)."""
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    with _PARSE_LOCK:
        algebra = prepareQuery(load_query(name)).algebra
    projected = {str(v) for v in algebra.get("PV") or ()}
    preds: dict = {}
    types: set | None = set()
    state = {"any": False, "local": True}

    def path_iris(p):
        if isinstance(p, URIRef):
            yield p
        elif isinstance(p, (SequencePath, AlternativePath)):
            for a in p.args:
                yield from path_iris(a)
        elif isinstance(p, MulPath):
            yield from path_iris(p.path)
        elif isinstance(p, InvPath):
            yield from path_iris(p.arg)
        else:  # a negated path matches almost any predicate
            state["any"] = True

    def pattern(s, p, o):
        nonlocal types
        if isinstance(p, Variable) or isinstance(p, NegatedPath):
            state["any"] = True
            return
        if not isinstance(p, URIRef):  # a property path
            state["local"] = False
            for iri in path_iris(p):
                preds[str(iri)] = None
                if str(iri) == _TYPE:
                    types = None
            return
        if str(p) == _TYPE:
            if isinstance(o, URIRef):
                if types is not None:
                    types.add(str(o))
            else:
                types = None
        if isinstance(s, Variable) and str(s) in projected and preds.get(str(p), set()) is not None:
            preds.setdefault(str(p), set()).add(str(s))
        else:
            preds[str(p)] = None

    def walk(node):
        if isinstance(node, CompValue):
            if node.name not in _ROW_LOCAL:
                state["local"] = False
            if node.name == "BGP":
                for t in node["triples"]:
                    pattern(*t)
            for k, v in node.items():
                if k != "_vars":
                    walk(v)
        elif isinstance(node, (list, tuple)):
            for x in node:
                walk(x)

    walk(algebra)
    return Deps(preds={p: (frozenset(v) if v is not None else None) for p, v in preds.items()},
                types=None if types is None else frozenset(types), any_pred=state["any"], row_local=state["local"])


def _affects(deps: Deps, triple) -> bool:
    _s, p, o = triple
    if deps.any_pred:
        return True
    if p not in deps.preds:
        return False
    if p == _TYPE:  # only a class the query names (or any, for a variable class)
        return deps.types is None or o in deps.types
    return True


def unaffected(name: str, changes) -> bool:
    """Whether no change in ``changes`` (:meth:`Store.changes_between`'s list) can alter ``name``'s answer."""
    deps = query_deps(name)
    return not any(_affects(deps, t) for change in changes for t in change)


def patch_rows(store, name: str, bindings: dict, rows: tuple, changes, extra: dict | None = None) -> tuple | None:
    """``rows`` (``store.select(name, **bindings)`` at an older generation, with ``extra`` added to each row)
    brought up to the store's current state by reading again only the rows of the changed subjects; None
    when that cannot be done exactly (the caller then reads everything).  ``rows`` itself when nothing
    changes them.  See the module docstring for why this is exact."""
    deps = query_deps(name)
    keys: dict[tuple[str, str], int] = {}  # (variable, subject IRI) -> order
    for change in changes:
        for t in change:
            if not _affects(deps, t):
                continue
            subjects = deps.preds.get(t[1])
            if deps.any_pred or not deps.row_local or subjects is None or t[0] is None:
                return None
            for v in subjects:
                keys.setdefault((v, t[0]), len(keys))
    if not keys:
        return rows
    if len(keys) > PATCH_MAX_SUBJECTS or any(v in bindings for v, _ in keys):
        return None
    variables = {v for v, _ in keys}

    def first(r) -> int | None:
        """The first changed subject this row holds (so a row holding two is read again once)."""
        hits = [keys[(v, r[v])] for v in variables if (v, r.get(v)) in keys]
        return min(hits) if hits else None

    out = [r for r in rows if first(r) is None]
    fixed = {k: v for k, v in bindings.items() if v is not None}
    for (v, subject), i in keys.items():
        for r in store.select(name, **fixed, **{v: URIRef(subject)}):
            if first(r) == i:
                out.append(dict(r, **extra) if extra else r)
    return tuple(out)
