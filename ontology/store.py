"""The graph store: one small interface, an embedded Oxigraph implementation.

Reads go through rdflib (``Dataset`` over the oxrdflib store) so named queries are bound
with ``initBindings``, which oxrdflib hands to Oxigraph as native substitutions: the query
text is never formatted with user input.  Writes replace whole named graphs (one per
source) in a single Oxigraph transaction.
"""
from __future__ import annotations

import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.query import Result

from .errors import NotFound, QueryError
from .vocab import PREFIXES

_STAGING = "urn:gapmap:staging:"


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
    m = _WHERE.search(_strip_comments(query))
    if m is None:
        raise QueryError("a '# bind: values' query needs a WHERE clause")
    return f"{query[:m.end()]} VALUES ({names}) {{ ({row}) }}{query[m.end():]}"


def _strip_comments(query: str) -> str:
    # same length as the input, so positions match; only whole-line comments are used in our .rq files
    return "\n".join(" " * len(line) if line.lstrip().startswith("#") else line for line in query.split("\n"))


def to_ox(term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
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


def _py(term):
    """A plain Python value for a result cell (IRIs as str, typed literals converted)."""
    if term is None:
        return None
    if isinstance(term, Literal):
        v = term.toPython()
        return v if not isinstance(v, Literal) else str(v)
    return str(term)


class Store(ABC):
    """What the rest of Gapmap needs from a store."""

    @abstractmethod
    def query(self, sparql: str, bindings: Mapping[str, object] | None = None) -> Result:
        """Run a read-only query over the union of all graphs."""

    @abstractmethod
    def replace_graphs(self, graphs: Mapping[URIRef, Graph]) -> None:
        """Replace each named graph by the given triples, all in one transaction."""

    @abstractmethod
    def apply(self, delete: Iterable[tuple], insert: Iterable[tuple]) -> None:
        """Delete then insert quads ``(s, p, o, g)`` in one transaction."""

    @abstractmethod
    def graph_names(self) -> list[str]: ...

    @abstractmethod
    def graph(self, name: URIRef) -> Graph:
        """A copy of one named graph."""

    @abstractmethod
    def __len__(self) -> int: ...

    # Conveniences built on query() -------------------------------------------------
    def select(self, name: str, **bindings) -> list[dict]:
        """Run the named query ``queries/<name>.rq`` and return rows as dicts of Python values."""
        res = self.query(load_query(name), {k: v for k, v in bindings.items() if v is not None})
        return [{str(v): _py(row[v]) for v in res.vars} for row in res]

    def ask(self, name: str, **bindings) -> bool:
        return bool(self.query(load_query(name), bindings).askAnswer)


class EmbeddedStore(Store):
    """Embedded Oxigraph store, on disk (``path``) or in memory (``path=None``)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        if self.path:
            self.path.mkdir(parents=True, exist_ok=True)
        self.ox = ox.Store(str(self.path)) if self.path else ox.Store()
        self._ds = Dataset(store=OxigraphStore(store=self.ox), default_union=True)
        self._write_lock = threading.Lock()
        self._drop_stale_staging()
        #: bumped on every write, so caches (reports, worker processes) can tell they are stale
        self.generation = 0

    def _drop_stale_staging(self):
        # A crash between staging and the atomic MOVE leaves staging graphs: they were never visible.
        for g in list(self.ox.named_graphs()):
            if isinstance(g, ox.NamedNode) and g.value.startswith(_STAGING):
                self.ox.remove_graph(g)

    def query(self, sparql, bindings=None):
        try:
            return self._ds.query(sparql, initBindings=dict(bindings or {}), initNs=PREFIXES)
        except (SyntaxError, RuntimeError) as e:
            raise QueryError(f"query failed: {e}") from None

    def replace_graphs(self, graphs):
        with self._write_lock:
            staged = {}
            try:
                for name, g in graphs.items():
                    tmp = ox.NamedNode(_STAGING + uuid.uuid4().hex)
                    staged[name] = tmp
                    self.ox.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), tmp) for s, p, o in g)
                # MOVE of every staged graph in one update: one transaction, all or nothing.
                ops = [f"MOVE SILENT GRAPH <{tmp.value}> TO GRAPH <{name}>" for name, tmp in staged.items()
                       if g_is_iri(name)]
                if ops:
                    self.ox.update(" ;\n".join(ops))
            finally:
                for tmp in staged.values():
                    if self.ox.contains_named_graph(tmp):
                        self.ox.remove_graph(tmp)
            self.generation += 1
            self.flush()

    def apply(self, delete, insert):
        def block(quads):
            lines = []
            for s, p, o, g in quads:
                lines.append(f"GRAPH {URIRef(g).n3()} {{ {s.n3()} {p.n3()} {o.n3()} }}")
            return "\n".join(lines)
        delete, insert = list(delete), list(insert)
        parts = []
        if delete:
            parts.append(f"DELETE DATA {{ {block(delete)} }}")
        if insert:
            parts.append(f"INSERT DATA {{ {block(insert)} }}")
        if not parts:
            return
        with self._write_lock:
            # Terms are serialised with rdflib's escaping (n3()); one update = one transaction.
            self.ox.update(" ;\n".join(parts))
            self.generation += 1
            self.flush()

    def select(self, name, **bindings):
        # Same binding mechanism as query()'s initBindings (Oxigraph substitutions), minus rdflib's
        # per-cell Result wrapping, which costs ~8x on report-sized answers (21 ms vs 2.6 ms).
        subs = {ox.Variable(k): to_ox(v) for k, v in bindings.items() if v is not None}
        text = load_query(name)
        if text.startswith("# bind: values"):
            text, subs = values_block(text, subs), {}
        try:
            res = self.ox.query(text, use_default_graph_as_union=True, substitutions=subs)
        except (SyntaxError, RuntimeError) as e:
            raise QueryError(f"query {name} failed: {e}") from None
        names = [v.value for v in res.variables]
        return [{n: _ox_py(t) for n, t in zip(names, row)} for row in res]

    def graph_names(self):
        return sorted(g.value for g in self.ox.named_graphs()
                      if isinstance(g, ox.NamedNode) and not g.value.startswith(_STAGING))

    def graph(self, name):
        g = Graph()
        for q in self.ox.quads_for_pattern(None, None, None, ox.NamedNode(str(name))):
            g.add((_from_ox(q.subject), _from_ox(q.predicate), _from_ox(q.object)))
        return g

    def graph_size(self, name) -> int:
        return sum(1 for _ in self.ox.quads_for_pattern(None, None, None, ox.NamedNode(str(name))))

    def dump(self, fmt=ox.RdfFormat.N_QUADS) -> bytes:
        return self.ox.dump(format=fmt)

    def flush(self):
        if self.path:
            self.ox.flush()

    def __len__(self):
        return len(self.ox)


def g_is_iri(name) -> bool:
    return isinstance(name, URIRef) and ">" not in name and " " not in name


_XSD = "http://www.w3.org/2001/XMLSchema#"
_CASTS = {_XSD + "integer": int, _XSD + "int": int, _XSD + "long": int, _XSD + "decimal": float,
          _XSD + "double": float, _XSD + "float": float, _XSD + "boolean": lambda v: v in ("true", "1")}


def _ox_py(t):
    """A plain Python value for an Oxigraph result cell (IRIs and other literals as str)."""
    if t is None:
        return None
    if isinstance(t, ox.Literal):
        cast = _CASTS.get(t.datatype.value)
        if cast is not None:
            try:
                return cast(t.value)
            except ValueError:
                return t.value
        return t.value
    if isinstance(t, ox.BlankNode):
        return f"_:{t.value}"
    return t.value


def _from_ox(t):
    if isinstance(t, ox.NamedNode):
        return URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return BNode(t.value)
    if t.language:
        return Literal(t.value, lang=t.language)
    return Literal(t.value, datatype=URIRef(t.datatype.value))



def open_store(path: str | Path | None) -> Store:
    """The default store: embedded Oxigraph at ``path`` (in memory when ``None``)."""
    return EmbeddedStore(path)
