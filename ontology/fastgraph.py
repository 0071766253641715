"""A lean rdflib store for the graphs loaders build (a :class:`loaders.base.Delta`'s graphs).

rdflib's default ``Memory`` store keeps context bookkeeping and fires an event per added triple: for a
3,530-row curriculum (45k triples) ``Graph.add`` cost ~1.7 s and lookups (SHACL's) ~1.8 s.  A delta
graph is one context, built once and read a few times, so :class:`FastStore` keeps just two indexes
(subject → predicate → objects, predicate → object → subjects) in plain dicts and sets.  It is an
ordinary rdflib ``Store``: every ``Graph`` method works on it (same triples, same answers as
``Memory``; ``tests/ontology/test_fastgraph.py`` compares them), and ``shacl_fast`` reads its subject
index directly instead of asking per node.
"""
from __future__ import annotations

from rdflib import Graph
from rdflib.store import Store


class FastStore(Store):
    """One graph's triples in a subject index and a predicate index (no contexts, no events)."""

    context_aware = False
    formula_aware = False
    transaction_aware = False
    graph_aware = False

    def __init__(self, configuration=None, identifier=None):
        super().__init__(configuration, identifier)
        self.spo: dict = {}  # s -> {p -> {o}}
        self._pos: dict = {}  # p -> {o -> {s}}
        self._n = 0
        self._ctx: tuple = ()
        self._ns: dict = {}
        self._pfx: dict = {}

    # writes -----------------------------------------------------------------------------------
    def add(self, triple, context=None, quoted=False):
        s, p, o = triple
        objs = self.spo.setdefault(s, {}).setdefault(p, set())
        if o in objs:
            return
        objs.add(o)
        self._pos.setdefault(p, {}).setdefault(o, set()).add(s)
        self._n += 1
        if context is not None and not self._ctx:
            self._ctx = (context,)

    def addN(self, quads):  # noqa: N802 (rdflib's name)
        for s, p, o, c in quads:
            self.add((s, p, o), c)

    def remove(self, triple, context=None):
        for (s, p, o), _c in list(self.triples(triple)):
            _discard(self.spo, s, p, o)
            _discard(self._pos, p, o, s)
            self._n -= 1

    # reads ------------------------------------------------------------------------------------
    def triples(self, triple_pattern, context=None):
        s, p, o = triple_pattern
        ctx = self._ctx
        if s is not None:
            po = self.spo.get(s)
            if not po:
                return
            if p is not None:
                objs = po.get(p)
                if not objs:
                    return
                if o is not None:
                    if o in objs:
                        yield (s, p, o), ctx
                    return
                for x in list(objs):
                    yield (s, p, x), ctx
                return
            for pp, objs in list(po.items()):
                if o is None:
                    for x in list(objs):
                        yield (s, pp, x), ctx
                elif o in objs:
                    yield (s, pp, o), ctx
            return
        if p is not None:
            os_ = self._pos.get(p)
            if not os_:
                return
            if o is not None:
                for x in list(os_.get(o, ())):
                    yield (x, p, o), ctx
                return
            for oo, subs in list(os_.items()):
                for x in list(subs):
                    yield (x, p, oo), ctx
            return
        for ss, po in list(self.spo.items()):
            for pp, objs in list(po.items()):
                if o is None:
                    for x in list(objs):
                        yield (ss, pp, x), ctx
                elif o in objs:
                    yield (ss, pp, o), ctx

    def __len__(self, context=None):
        return self._n

    def contexts(self, triple=None):
        return iter(self._ctx)

    # namespaces (rdflib's Graph binds its default prefixes through the store) ------------------------
    def bind(self, prefix, namespace, override=True):
        # the same rules as rdflib's Memory.bind
        bound_ns = self._ns.get(prefix)
        bound_prefix = self._pfx.get(namespace)
        if bound_prefix is None and bound_ns is not None:
            bound_prefix = self._pfx.get(bound_ns)
        if override:
            if bound_prefix is not None:
                del self._ns[bound_prefix]
            if bound_ns is not None:
                del self._pfx[bound_ns]
            self._pfx[namespace] = prefix
            self._ns[prefix] = namespace
        else:
            self._pfx[bound_ns if bound_ns is not None else namespace] = (
                bound_prefix if bound_prefix is not None else prefix)
            self._ns[bound_prefix if bound_prefix is not None else prefix] = (
                bound_ns if bound_ns is not None else namespace)

    def namespace(self, prefix):
        return self._ns.get(prefix)

    def prefix(self, namespace):
        return self._pfx.get(namespace)

    def namespaces(self):
        yield from list(self._ns.items())


def fast_graph(identifier=None) -> Graph:
    """An rdflib ``Graph`` over a :class:`FastStore`."""
    return Graph(store=FastStore(), identifier=identifier)


def _discard(index: dict, a, b, c) -> None:
    """Remove ``c`` from ``index[a][b]``, dropping the inner dict and set when they become empty."""
    inner = index[a]
    inner[b].discard(c)
    if not inner[b]:
        del inner[b]
        if not inner:
            del index[a]
