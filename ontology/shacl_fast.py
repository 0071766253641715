"""A fast, conservative conformance check for the Gapmap shapes: the fast path for conforming data.

pyshacl validates every property shape once per focus node (~0.25 ms each on 2 cores), which made a
3,530-row curriculum spend ~20 s in validation.  :func:`conforms` checks the same shapes in one pass
over the data graph.  It is *sound for conformance*: it answers True only when every target node meets
every constraint (including warnings, as pyshacl is run with ``allow_warnings=False``); any failure,
or any shape feature it does not implement, answers False, and the caller then runs pyshacl, which
produces the report.  So violations are always reported by pyshacl, exactly as before; conforming data
skips it.  ``tests/ontology/test_shacl_fast.py`` checks both answers agree on valid and broken inputs.
"""
from __future__ import annotations

import re
import threading
from decimal import Decimal

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, XSD

SH = "http://www.w3.org/ns/shacl#"
_S = {k: URIRef(SH + k) for k in (
    "NodeShape", "PropertyShape", "targetClass", "property", "path", "message", "severity", "minCount",
    "maxCount", "nodeKind", "datatype", "minLength", "minInclusive", "maxInclusive", "in", "class",
    "uniqueLang", "or", "qualifiedValueShape", "qualifiedMinCount", "qualifiedMaxCount", "lessThan",
    "IRI", "Literal", "BlankNodeOrIRI", "name", "description", "order", "group", "pattern", "flags")}
#: shape predicates that do not constrain
_INERT = {RDF.type, _S["message"], _S["severity"], _S["name"], _S["description"], _S["order"], _S["group"],
          RDFS.comment, RDFS.label}
_NUMERIC = {XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.int, XSD.long, XSD.nonNegativeInteger,
            XSD.positiveInteger}


class Unsupported(Exception):
    pass


def _list(sg: Graph, head) -> list:
    return list(Collection(sg, head))


class _Checker:
    """The shapes graph compiled to Python closures ``check(data, node) -> bool``."""

    def __init__(self, sg: Graph):
        self.targets: list[tuple[URIRef, object]] = []
        for shape in set(sg.subjects(_S["targetClass"], None)):
            for cls in sg.objects(shape, _S["targetClass"]):
                self.targets.append((cls, self._node_shape(sg, shape, top=True)))
        # target-less shapes are only reached through sh:or / sh:qualifiedValueShape (compiled inline)

    # a node shape (or a shape used inside sh:or): node constraints + property shapes
    def _node_shape(self, sg, shape, top=False):
        checks = []
        for p, o in sg.predicate_objects(shape):
            if p in _INERT or p == _S["targetClass"]:
                continue
            if p == _S["property"]:
                checks.append(self._property_shape(sg, o))
            elif p == _S["path"]:
                if top:
                    raise Unsupported("a targeted shape with a path")
                checks.append(self._property_shape(sg, shape))
                return lambda d, n, _c=checks[-1]: _c(d, n)  # a property shape used as a member
            elif p == _S["nodeKind"]:
                kind = self._kind(o)
                checks.append(lambda d, n, _k=kind: _k(n))
            elif p == _S["class"]:
                checks.append(lambda d, n, _c=o: (n, RDF.type, _c) in d)
            elif p == _S["in"]:
                allowed = set(_list(sg, o))
                checks.append(lambda d, n, _a=allowed: n in _a)
            elif p == _S["or"]:
                members = [self._node_shape(sg, m) for m in _list(sg, o)]
                checks.append(lambda d, n, _m=members: any(m(d, n) for m in _m))
            else:
                raise Unsupported(f"node constraint {p}")
        return lambda d, n, _c=tuple(checks): all(c(d, n) for c in _c)

    def _property_shape(self, sg, ps):
        path = sg.value(ps, _S["path"])
        if not isinstance(path, URIRef):
            raise Unsupported("a non-IRI path")
        per_value, per_set = [], []
        for p, o in sg.predicate_objects(ps):
            if p in _INERT or p == _S["path"]:
                continue
            if p == _S["minCount"]:
                per_set.append(lambda d, n, vs, _m=int(o): len(vs) >= _m)
            elif p == _S["maxCount"]:
                per_set.append(lambda d, n, vs, _m=int(o): len(vs) <= _m)
            elif p == _S["nodeKind"]:
                kind = self._kind(o)
                per_value.append(lambda d, v, _k=kind: _k(v))
            elif p == _S["datatype"]:
                per_value.append(lambda d, v, _t=o: _has_datatype(v, _t))
            elif p == _S["minLength"]:
                per_value.append(lambda d, v, _m=int(o): not isinstance(v, BNode) and len(str(v)) >= _m)
            elif p == _S["pattern"]:
                if (ps, _S["flags"], None) in sg:
                    raise Unsupported("sh:pattern with sh:flags")
                # SPARQL REGEX semantics (XPath): a search, not a full match; blank nodes never match
                rx = re.compile(str(o))
                per_value.append(lambda d, v, _r=rx: not isinstance(v, BNode) and _r.search(str(v)) is not None)
            elif p == _S["minInclusive"]:
                per_value.append(lambda d, v, _b=o: _cmp(v, _b, lambda a, b: a >= b))
            elif p == _S["maxInclusive"]:
                per_value.append(lambda d, v, _b=o: _cmp(v, _b, lambda a, b: a <= b))
            elif p == _S["in"]:
                allowed = set(_list(sg, o))
                per_value.append(lambda d, v, _a=allowed: v in _a)
            elif p == _S["class"]:
                per_value.append(lambda d, v, _c=o: (v, RDF.type, _c) in d)
            elif p == _S["or"]:
                members = [self._node_shape(sg, m) for m in _list(sg, o)]
                per_value.append(lambda d, v, _m=members: any(m(d, v) for m in _m))
            elif p == _S["uniqueLang"]:
                if o.toPython() is not True:
                    raise Unsupported("sh:uniqueLang false")
                if True:
                    per_set.append(lambda d, n, vs: _unique_lang(vs))
            elif p == _S["lessThan"]:
                per_set.append(lambda d, n, vs, _o=o: all(_cmp(a, b, lambda x, y: x < y)
                                                          for a in vs for b in d.objects(n, _o)))
            elif p == _S["qualifiedValueShape"]:
                q = self._node_shape(sg, o)
                lo = sg.value(ps, _S["qualifiedMinCount"])
                hi = sg.value(ps, _S["qualifiedMaxCount"])
                per_set.append(lambda d, n, vs, _q=q, _lo=lo, _hi=hi: _qualified(d, vs, _q, _lo, _hi))
            elif p in (_S["qualifiedMinCount"], _S["qualifiedMaxCount"]):
                continue
            else:
                raise Unsupported(f"property constraint {p}")

        def check(d, n):
            vs = list(d.objects(n, path))
            return all(c(d, n, vs) for c in per_set) and all(c(d, v) for v in vs for c in per_value)
        return check

    @staticmethod
    def _kind(o):
        if o == _S["IRI"]:
            return lambda v: isinstance(v, URIRef)
        if o == _S["Literal"]:
            return lambda v: isinstance(v, Literal)
        if o == _S["BlankNodeOrIRI"]:
            return lambda v: isinstance(v, (URIRef, BNode))
        raise Unsupported(f"nodeKind {o}")

    def conforms(self, data: Graph) -> bool:
        index = _Index(data)
        if index.has_subclass:
            return False  # SHACL class targets follow rdfs:subClassOf in the data: leave it to pyshacl
        for cls, check in self.targets:
            for n in index.typed.get(cls, ()):
                if not check(index, n):
                    return False
        return True


class _Index:
    """The data graph's triples by subject, built in one pass (or taken as they are from a FastStore):
    every check then is a dict lookup instead of an rdflib ``triples()`` call per node and shape."""

    def __init__(self, data: Graph):
        from .fastgraph import FastStore

        store = data.store
        if isinstance(store, FastStore) and type(data) is Graph:
            spo = store.spo
        else:
            spo = {}
            for s, p, o in data:
                spo.setdefault(s, {}).setdefault(p, set()).add(o)
        self.spo = spo
        typed: dict = {}
        self.has_subclass = False
        for s, po in spo.items():
            for t in po.get(RDF.type, ()):
                typed.setdefault(t, []).append(s)
            if RDFS.subClassOf in po:
                self.has_subclass = True
        self.typed = typed

    def objects(self, n, p):
        return self.spo.get(n, _EMPTY).get(p, ())

    def __contains__(self, triple) -> bool:
        s, p, o = triple
        return o in self.spo.get(s, _EMPTY).get(p, ())


_EMPTY: dict = {}


def _has_datatype(v, dt) -> bool:
    if not isinstance(v, Literal) or v.language:
        return False
    vdt = v.datatype or XSD.string
    return vdt == dt and v.ill_typed is not True


def _cmp(a, b, op) -> bool:
    if not (isinstance(a, Literal) and isinstance(b, Literal)):
        return False
    if (a.datatype in _NUMERIC) and (b.datatype in _NUMERIC) and a.ill_typed is not True:
        x, y = a.toPython(), b.toPython()
        if isinstance(x, (int, float, Decimal)) and isinstance(y, (int, float, Decimal)):
            return op(Decimal(str(x)), Decimal(str(y)))
        return False
    if a.datatype == b.datatype and a.datatype in (XSD.date, XSD.dateTime) and a.ill_typed is not True:
        try:
            return op(a.toPython(), b.toPython())
        except TypeError:
            return False
    return False


def _unique_lang(vs) -> bool:
    langs = [v.language for v in vs if isinstance(v, Literal) and v.language]
    return len(langs) == len(set(langs))


def _qualified(d, vs, q, lo, hi) -> bool:
    n = sum(1 for v in vs if q(d, v))
    return (lo is None or n >= int(lo)) and (hi is None or n <= int(hi))


_lock = threading.Lock()
_compiled: dict[int, object] = {}


def conforms(data: Graph, shapes: Graph) -> bool:
    """True only if ``data`` certainly conforms to ``shapes`` (see the module doc); False means "ask pyshacl"."""
    key = id(shapes)
    with _lock:
        checker = _compiled.get(key)
        if checker is None:
            try:
                checker = _Checker(shapes)
            except Unsupported:
                checker = False
            _compiled[key] = checker
    return bool(checker) and checker.conforms(data)
