"""The graph store: one contract (:class:`Store`), two implementations.

* :class:`EmbeddedStore`: Oxigraph in this process, in memory (``path=None``) or on disk.
* ``RemoteStore`` (ontology/store_remote.py): any SPARQL 1.1 Query/Update + Graph Store Protocol server (Oxigraph server,
  Virtuoso, Fuseki), which several service processes can share.

What every implementation guarantees is written on :class:`Store` and checked by the reusable
contract suite in ``tests/ontology/store_contract.py`` (docs/store.md says how to run it on a new
implementation: one fixture).

Named queries (``select``) bind their parameters as native substitutions (embedded) or a ``VALUES``
block (remote): the query text is never formatted with user input.  Writes replace whole named graphs
(one per source) or delete/insert quads; each write, and each :meth:`Store.transaction`, is one
store transaction.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import uuid
import weakref
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import Dataset, Graph, URIRef
from rdflib.query import Result

from .errors import GapmapError, LoadError, QueryAborted, QueryError, StoreLocked
from .store_terms import as_quads, canonical, data_ops, from_ox, g_is_iri, load_query, to_ox, to_python, values_block
from .vocab import PREFIXES

STAGING = "urn:gapmap:staging:"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: generations whose change the embedded store remembers (:meth:`Store.changes_between`), and the most
#: distinct (subject, predicate) pairs one write may have to be remembered (bigger writes: "unknown")
JOURNAL_SIZE, JOURNAL_MAX_TRIPLES = 256, 2000


def change_of(quads) -> frozenset | None:
    """What writing (deleting or inserting) these Oxigraph quads may change, as the journal keeps it:
    ``(subject, predicate, object)`` strings, the subject ``None`` for a blank node and the object kept
    only for ``rdf:type`` (what a cached result can depend on); None when there are too many to keep."""
    out = set()
    for q in quads:
        s, p = q.subject, q.predicate.value
        out.add((s.value if isinstance(s, ox.NamedNode) else None, p,
                 q.object.value if p == _RDF_TYPE and isinstance(q.object, ox.NamedNode) else None))
        if len(out) > JOURNAL_MAX_TRIPLES:
            return None
    return frozenset(out)


# ------------------------------------------------------------------------------------------------
# The contract
# ------------------------------------------------------------------------------------------------
class StoreClosed(GapmapError):
    """The store was closed (:meth:`Store.close`): open it again to use it."""

    status = 503
    exit_code = 5
    title = "Store closed"


class StoreUnsupported(GapmapError):
    """The store lacks the capability this operation needs (see :attr:`Store.capabilities`)."""

    status = 501
    exit_code = 5
    title = "Not supported by this store"


@dataclass(frozen=True)
class Capabilities:
    """What a store can do beyond the base contract (the contract suite checks each flag both ways,
    except ``cheap_snapshots``: a cost, measured by bench/store_contract.py).

    ``workers``: :meth:`Store.worker_access` works, so the SPARQL engine can evaluate queries in
    killable, sandboxed worker processes (the /sparql endpoint and ``QUERY_DEADLINE`` need it).
    ``persistent``: the data outlives :meth:`Store.close` (reopening the same location sees it).
    ``shared``: several processes may use the store at once and see each other's writes and
    generation (else one process owns it: a second one gets :class:`StoreLocked`).
    ``gsp``: the store is a SPARQL 1.1 Graph Store Protocol server (``graph()`` fetches over it).
    ``snapshots``: :meth:`Store.snapshot` is supported.  ``cheap_snapshots``: a snapshot costs about
    a checkpoint (constant time), not a copy of the whole store.
    """

    workers: bool
    persistent: bool
    shared: bool
    gsp: bool
    snapshots: bool
    cheap_snapshots: bool = False

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class _Tx:
    """The writes of an open :meth:`Store.transaction`, applied at commit as one SPARQL update."""

    ops: list[str] = field(default_factory=list)
    staged: list = field(default_factory=list)  # staging graphs written already (invisible until MOVEd)
    touched: set = field(default_factory=set)  # graphs written in this transaction
    #: what the writes change (:func:`change_of` of their quads), None when not known (journal, below)
    changes: set | None = field(default_factory=set)

    def note(self, change: frozenset | None) -> None:
        # a block rolled back keeps its quads here: listing more than was written only costs a re-read
        self.changes = None if change is None or self.changes is None else self.changes | change
        if self.changes is not None and len(self.changes) > JOURNAL_MAX_TRIPLES:
            self.changes = None

    def mark(self) -> tuple[int, int]:
        return len(self.ops), len(self.staged)


class Store(ABC):
    """What the rest of Gapmap needs from a graph store, and what each implementation guarantees.

    Lifecycle
        A store is open once constructed (:func:`open_store`); :meth:`close` releases it (an on-disk
        store's lock, so another process can open it).  After ``close()`` every read, write,
        ``generation``, ``transaction()``, ``snapshot()`` and ``worker_access()`` raises :class:`StoreClosed`
        (``close()`` may be called again; ``closed`` and ``capabilities`` still answer).  A store is a context manager
        (``with open_store(path) as store: ...`` closes it).

    Reads
        :meth:`select` (named queries, rows of plain values via :func:`to_python`), :meth:`query`
        (free SPARQL, an rdflib ``Result``), :meth:`graph`, :meth:`graph_names`, ``len()``: always over
        the committed state, the default graph being the union of the named graphs.  A read never
        changes :attr:`generation`.

    Writes
        :meth:`replace_graphs` and :meth:`apply`: each is atomic (all of it or none of it is written,
        including when a term is refused: :class:`LoadError`) and bumps :attr:`generation` once.
        :meth:`transaction` groups several writes into one atomic commit.  :meth:`locked` serialises
        read-check-write sequences of this process.

    Generation
        :attr:`generation` changes on every committed write and only then (not on reads, nor on a
        rolled-back transaction); caches key on it.  Compare with ``==``/``!=`` only (an ``int`` for
        the embedded store, a token for a remote one, where every process sees the same value).

    Journal
        :meth:`changes_between` tells what the writes between two generations changed, when the store
        knows it exactly (else None: caches then re-read).  Knowing less is always allowed.

    Snapshot
        :meth:`snapshot` (when ``capabilities.snapshots``): a read-only view of the store as it was,
        unaffected by later writes, with the read methods above; close it when done.
    """

    def __init__(self):
        # Re-entrant: a writer holding locked()/transaction() around read-check-write calls writes inside.
        self._write_lock = threading.RLock()
        self._tx: _Tx | None = None
        self._closed = False

    # lifecycle -----------------------------------------------------------------------------------
    @property
    @abstractmethod
    def capabilities(self) -> Capabilities:
        """The frozen capability flags of this store (:class:`Capabilities`)."""

    def close(self) -> None:
        """Release the store (flush, drop the on-disk lock).  Idempotent; waits for a running write."""
        with self._write_lock:
            if not self._closed:
                self._closed = True
                self._release()

    def _release(self) -> None:
        """Implementation hook of :meth:`close`."""

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(f"the store {self.location} is closed; open it again to use it")

    @property
    def location(self) -> str:
        """Where the store lives (a path, a URL or "memory"), for messages."""
        return "memory"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # reads ---------------------------------------------------------------------------------------
    @abstractmethod
    def query(self, sparql: str, bindings: Mapping[str, object] | None = None) -> Result:
        """Run a read-only query (any form) over the union of all graphs; ``bindings`` are bound as
        values, never formatted into the text.  A syntax error is a :class:`QueryError`."""

    @abstractmethod
    def select(self, name: str, **bindings) -> list[dict]:
        """Run the named query ``queries/<name>.rq`` (``None`` bindings are left unbound) and return its
        rows as dicts of plain Python values (:func:`to_python`), in the query's order."""

    @abstractmethod
    def graph_names(self) -> list[str]:
        """The names of the non-empty named graphs holding data, sorted (no internal graphs)."""

    @abstractmethod
    def graph(self, name: URIRef, subjects: Iterable | None = None) -> Graph:
        """A copy of one named graph (only the triples of ``subjects`` when given; empty if unknown)."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of data quads (internal graphs excluded)."""

    # writes --------------------------------------------------------------------------------------
    @abstractmethod
    def replace_graphs(self, graphs: Mapping[URIRef, Graph]) -> None:
        """Replace each named graph by the given triples (an empty graph drops it), atomically."""

    @abstractmethod
    def apply(self, delete: Iterable[tuple], insert: Iterable[tuple]) -> None:
        """Delete then insert quads ``(s, p, o, g)``, atomically."""

    def locked(self):
        """The store's write lock (re-entrant), as a context manager.

        Every write takes it.  A writer whose write depends on what it reads (a decision checks the
        current status, an alignment run keeps the decided alignments, an upload numbers its version)
        holds it around the read *and* the write, so no other write *of this process* lands in between;
        writes made inside commit at once (and later reads see them), unlike :meth:`transaction`.
        Across processes: an embedded store has one process (:class:`StoreLocked`); a remote store
        shared by replicas gives no cross-process isolation (last write wins).
        """
        return self._write_lock

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group writes into one atomic commit: all of them, or (on an exception) none.

        Holds :meth:`locked` throughout.  Writes inside are buffered and committed as one store
        transaction when the outermost ``transaction()`` exits; :attr:`generation` changes once then
        (not at all for an empty or rolled-back transaction).  Reads inside see the committed state,
        not the transaction's own pending writes.  Re-entrant: an inner ``transaction()`` joins the
        outer one; an exception leaving an inner block discards only that block's writes.
        """
        with self._write_lock:
            self._check_open()
            outer = self._tx is None
            if outer:
                self._tx = _Tx()
            tx = self._tx
            mark = tx.mark()
            try:
                yield self
            except BaseException:
                dropped = tx.staged[mark[1]:]
                del tx.ops[mark[0]:], tx.staged[mark[1]:]
                if outer:
                    self._tx = None
                self._drop_staged(dropped)
                raise
            if outer:
                self._tx = None
                if tx.ops:
                    try:
                        self._commit(tx.ops, None if tx.changes is None else frozenset(tx.changes))
                    finally:
                        self._drop_staged(tx.staged)

    @abstractmethod
    def _commit(self, ops: list[str], change: frozenset | None = None) -> None:
        """Apply SPARQL update operations as one store transaction and change the generation
        (``change``: what they change, for the journal; None: not known)."""

    def _drop_staged(self, graphs: list) -> None:
        """Remove staging graphs of a transaction (implementations that stage override)."""

    # generation, snapshots, workers -----------------------------------------------------------
    @property
    @abstractmethod
    def generation(self) -> object:
        """A value that changes on every committed write (see the class docstring)."""

    def changes_between(self, since, until) -> list[frozenset] | None:
        """What each committed write after generation ``since`` up to ``until`` changed, oldest first
        (:func:`change_of` sets), or None when that is not known exactly: a write of unknown kind (a
        replaced or dropped graph, a staged graph, a write too big to remember), a generation the
        journal no longer holds, a write made by another process.  ``[]`` when ``since == until``.

        Lets a cache patch an entry of generation ``since`` for ``until`` instead of recomputing it; a
        store that keeps no journal answers None (the default), which is always correct."""
        return [] if since == until else None

    def snapshot(self) -> Store:
        """A consistent read-only view of the store now (a :class:`Store` whose writes raise
        :class:`StoreUnsupported`); close it when done.  Needs ``capabilities.snapshots``."""
        self._check_open()
        raise StoreUnsupported(f"{type(self).__name__} has no snapshots")

    def worker_access(self) -> WorkerAccess:
        """What the process-pool SPARQL engine needs to evaluate on this store in worker processes
        (:class:`WorkerAccess`).  Needs ``capabilities.workers``."""
        self._check_open()
        raise StoreUnsupported(f"{type(self).__name__} cannot be opened by SPARQL worker processes; "
                               "query the SPARQL server directly")

    def flush(self) -> None:
        """Make committed writes durable now (a no-op where every commit already is)."""


class WorkerAccess:
    """How the SPARQL engine's worker processes read an embedded store (:meth:`Store.worker_access`).

    ``mode == "fork"`` (in-memory store): :meth:`fork` forks the worker from this process at a moment
    when no write is half-done; the child evaluates on the data it inherited copy-on-write
    (:meth:`engine` in the child).  ``mode == "snapshot"`` (on-disk store): :meth:`checkpoint` writes
    a consistent read-only copy (a RocksDB checkpoint: a flush and hard links) that a fresh process
    opens with :func:`open_checkpoint`.  Either way a worker made under an older :meth:`key` is stale.
    :meth:`engine` is also what in-process (inline) evaluation uses.
    """

    def __init__(self, store: EmbeddedStore):
        self._store = store
        self.mode = "snapshot" if store.path else "fork"
        #: the on-disk store's folder (checkpoints go beside it), None in fork mode
        self.folder: Path | None = store.path

    def key(self) -> object:
        """Changes whenever the data may have changed: the generation, and for an on-disk store also a
        stamp of its log files (which changes on writes that bypass the store object)."""
        s = self._store
        return s.generation if self.mode == "fork" else (s.generation, s._file_stamp())

    def engine(self) -> ox.Store:
        """The pyoxigraph store to evaluate on in this process."""
        return self._store.ox

    def fork(self) -> tuple[int, object]:
        """``os.fork()`` with no write half-done; ``(pid, key)`` in the parent, ``(0, key)`` in the child."""
        with self._store.locked():
            key = self.key()
            return os.fork(), key

    def checkpoint(self, target: str | Path) -> object:
        """Write a consistent read-only copy of the store to ``target`` (a new folder); its key."""
        with self._store.locked():
            self._store.ox.backup(str(target))
            return self.key()


def open_checkpoint(path: str) -> ox.Store:
    """Open a :meth:`WorkerAccess.checkpoint` read-only (in a worker process)."""
    return ox.Store.read_only(path)


class EmbeddedStore(Store):
    """Embedded Oxigraph store, on disk (``path``) or in memory (``path=None``).

    One process owns an on-disk store (a second one gets :class:`StoreLocked`).  Free queries
    (``query``) go through rdflib (a ``Dataset`` over the oxrdflib store) so they return rdflib
    results; named queries (``select``) go straight to Oxigraph with native substitutions.
    ``ox`` (the pyoxigraph store) is there for tests and benchmarks; it is not part of the contract.
    """

    _STAMPED = re.compile(r"^(\d+\.log|MANIFEST-\d+|CURRENT)$")

    def __init__(self, path: str | Path | None = None):
        super().__init__()
        self.path = Path(path) if path else None
        if self.path:
            self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._ox = ox.Store(str(self.path)) if self.path else ox.Store()
        except OSError as e:
            if "lock" in str(e).lower():
                raise StoreLocked(f"the store {self.path} is in use by another process (a running "
                                  "`gapmap serve`?): stop it first, or use the API", store=str(self.path)) from None
            raise
        self._ds = Dataset(store=OxigraphStore(store=self._ox), default_union=True)
        self._drop_stale_staging()
        self._generation = 0
        #: generation -> what the write that made it changed (None: not known); written under the
        #: write lock together with the generation, read by changes_between under its own lock
        self._journal: OrderedDict[int, frozenset | None] = OrderedDict()
        self._journal_lock = threading.Lock()
        #: graph IRI -> its triples as stored, valid while ``_generation == _known_gen`` (replace_graphs)
        self._known: dict = {}
        self._known_gen: int | None = None
        #: when set (the service does, for on-disk stores): ``f(query, substitutions) -> rows`` that
        #: evaluates a named query in a killable worker process under a deadline (SparqlEngine.select)
        self.read_executor = None

    @property
    def ox(self) -> ox.Store:
        if self._ox is None:
            raise StoreClosed(f"the store {self.location} is closed; open it again to use it")
        return self._ox

    @property
    def location(self) -> str:
        return str(self.path) if self.path else "memory"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(workers=bool(self.path) or hasattr(os, "fork"), persistent=self.path is not None,
                            shared=False, gsp=False, snapshots=True, cheap_snapshots=self.path is not None)

    @property
    def generation(self) -> int:
        self._check_open()
        return self._generation

    def changes_between(self, since, until):
        if since == until:
            return []
        if not (isinstance(since, int) and isinstance(until, int)) or since > until:
            return None
        journal = getattr(self, "_journal", None)  # a Snapshot has none
        if journal is None:
            return None
        with self._journal_lock:
            out = [journal.get(g) for g in range(since + 1, until + 1)]
        return None if any(c is None for c in out) else out

    def _bump(self, change: frozenset | None) -> None:
        """The next generation, with what it changed in the journal (caller holds the write lock).
        The journal entry is written first: a reader that sees the new generation finds it."""
        with self._journal_lock:
            self._journal[self._generation + 1] = change
            while len(self._journal) > JOURNAL_SIZE:
                self._journal.popitem(last=False)
        self._generation += 1

    def _release(self):
        if self._ox is not None and self.path:
            self._ox.flush()
        self._ox = self._ds = None
        self.read_executor = None
        self._known = {}

    def _drop_stale_staging(self):
        # A crash between staging and the atomic MOVE leaves staging graphs: they were never visible.
        for g in list(self._ox.named_graphs()):
            if isinstance(g, ox.NamedNode) and g.value.startswith(STAGING):
                self._ox.remove_graph(g)

    def _drop_staged(self, graphs):
        for tmp in graphs:
            if self._ox is not None and self._ox.contains_named_graph(tmp):
                self._ox.remove_graph(tmp)

    def _file_stamp(self):
        """Names and sizes of the on-disk store's WAL/MANIFEST/CURRENT files (change on every write)."""
        try:
            return tuple(sorted((e.name, e.stat().st_size) for e in os.scandir(self.path)
                                if self._STAMPED.match(e.name)))
        except (OSError, TypeError):
            return None

    # reads ------------------------------------------------------------------------------------
    def query(self, sparql, bindings=None):
        self._check_open()
        try:
            return self._ds.query(sparql, initBindings=dict(bindings or {}), initNs=PREFIXES)
        except (SyntaxError, RuntimeError) as e:
            raise QueryError(f"query failed: {e}") from None

    def select(self, name, **bindings):
        # Same binding mechanism as query()'s initBindings (Oxigraph substitutions), minus rdflib's
        # per-cell Result wrapping, which costs ~8x on report-sized answers (21 ms vs 2.6 ms).
        store = self.ox
        subs = {ox.Variable(k): to_ox(v) for k, v in bindings.items() if v is not None}
        text = load_query(name)
        if text.startswith("# bind: values"):
            text, subs = values_block(text, subs), {}
        # Reads made while a write holds the lock (possibly this very thread) stay in-process.
        if self.read_executor is not None and not _held(self._write_lock):
            try:
                return self.read_executor(text, subs)
            except QueryAborted as e:
                if "could not start" not in str(e):
                    raise
                # no worker process could be started: answer in-process rather than not at all
        try:
            res = store.query(text, use_default_graph_as_union=True, substitutions=subs)
        except (SyntaxError, RuntimeError) as e:
            raise QueryError(f"query {name} failed: {e}") from None
        names = [v.value for v in res.variables]
        return [{n: to_python(t) for n, t in zip(names, row)} for row in res]

    def graph_names(self):
        return sorted(g.value for g in self.ox.named_graphs()
                      if isinstance(g, ox.NamedNode) and not g.value.startswith(STAGING))

    def graph(self, name, subjects=None):
        store = self.ox
        g = Graph()
        gname = ox.NamedNode(str(name))
        if subjects is None:
            quads = store.quads_for_pattern(None, None, None, gname)
        else:
            quads = (q for s in subjects for q in store.quads_for_pattern(to_ox(s), None, None, gname))
        for q in quads:
            g.add((from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)))
        return g

    def __len__(self):
        return len(self.ox)

    def dump(self, fmt=None) -> bytes:
        """The whole store serialised (N-Quads unless ``fmt``, a ``pyoxigraph.RdfFormat``, says otherwise)."""
        return self.ox.dump(format=fmt or ox.RdfFormat.N_QUADS)

    # writes -----------------------------------------------------------------------------------
    #: the remembered last write holds at most this many triples (~100 bytes each)
    KNOWN_LIMIT = 1_000_000

    def replace_graphs(self, graphs):
        """Replace each named graph, all in one transaction, writing only what changed.

        Each graph's new triples (an rdflib ``Graph`` or any iterable of ``(s, p, o)`` in rdflib or
        pyoxigraph terms) are compared with what the store holds; one update then deletes the triples
        that went and inserts those that came (a re-alignment rewrites a few thousand triples, not
        ~100k, and an on-disk store pays per written quad).  A graph with blank nodes cannot be
        diffed (DELETE DATA takes no blank nodes): it is staged and MOVEd in the same update.  Inside
        a :meth:`transaction`, a graph the transaction already wrote is dropped and rewritten whole.

        What the store holds is read from the store, unless this store object wrote the graph itself
        and nothing was written since: :attr:`generation` is still the one its write left (every write
        bumps it under the write lock, which is held here).  The triples of the last writes are kept
        for that, in the form Oxigraph stores them (canonical literals), so a re-alignment does not
        read the whole graph back.  Writes that bypass this object (``store.ox``) are not seen.
        """
        with self._write_lock:
            store, tx = self.ox, self._tx
            staged, deletes, inserts, drops = {}, [], [], []
            known = self._known if self._known_gen == self._generation else {}
            written: dict = {}  # graph -> its triples as stored after this write (None: not known)
            memo: dict = {}  # rdflib terms repeat (predicates, classes, subjects): convert each once
            oxt = (ox.NamedNode, ox.Literal)

            def conv(t):
                o = memo.get(t)
                if o is None:
                    try:
                        o = memo[t] = to_ox(t)
                    except (ValueError, TypeError) as e:  # a term Oxigraph refuses (an IRI with a space, ...)
                        raise LoadError(f"cannot store {str(t)[:200]!r}: {e}") from None
                return o
            try:
                for name, g in graphs.items():
                    if not g_is_iri(name):
                        continue
                    gname = ox.NamedNode(str(name))
                    new = {(s if type(s) is ox.NamedNode else conv(s), p if type(p) is ox.NamedNode else conv(p),
                            o if type(o) in oxt else conv(o)) for s, p, o in g}
                    canon = canonical({o for _s, _p, o in new if type(o) is ox.Literal})
                    if canon:  # compare (and remember) literals as Oxigraph keeps them
                        new = {(s, p, canon.get(o, o)) for s, p, o in new}
                    rewrite = tx is not None and gname.value in tx.touched
                    if not new:  # an empty graph is dropped (not kept as an empty named graph)
                        if rewrite or store.contains_named_graph(gname):
                            drops.append(gname)
                        written[gname.value] = frozenset()
                        continue
                    if rewrite:
                        old: set | frozenset = set()
                    elif gname.value in known:
                        old = known[gname.value]
                    else:
                        old = {(q.subject, q.predicate, q.object)
                               for q in store.quads_for_pattern(None, None, None, gname)}
                    if any(isinstance(t, ox.BlankNode) for tr in (new, old) for x in tr for t in (x[0], x[2])):
                        tmp = ox.NamedNode(STAGING + uuid.uuid4().hex)
                        staged[name] = tmp
                        store.extend(ox.Quad(s, p, o, tmp) for s, p, o in new)
                        written[gname.value] = None
                        continue
                    if rewrite:
                        drops.append(gname)
                    deletes += [ox.Quad(s, p, o, gname) for s, p, o in old - new]
                    inserts += [ox.Quad(s, p, o, gname) for s, p, o in new - old]
                    written[gname.value] = frozenset(new)
                # MOVE of staged graphs, drops, deletes and inserts in one update: all or nothing.
                ops = [f"MOVE SILENT GRAPH <{tmp.value}> TO GRAPH <{name}>" for name, tmp in staged.items()]
                ops += [f"DROP SILENT GRAPH {g}" for g in drops]
                ops += data_ops(deletes, inserts)
                # a diff is known exactly; a staged (blank node) or dropped graph is not
                change = None if staged or drops else change_of(deletes + inserts)
                if tx is not None:
                    tx.ops += ops
                    tx.staged += staged.values()
                    tx.touched |= {str(n) for n in graphs if g_is_iri(n)}
                    tx.note(change)
                    staged = {}  # the transaction drops them at commit or rollback
                    return
                if not deletes and not staged and not drops:
                    if inserts:
                        store.extend(inserts)  # one transaction
                else:
                    self._update_now(ops)
            finally:
                self._drop_staged(staged.values())
            self._bump(change)
            self._remember(known, written)
            self.flush()

    def _remember(self, known: dict, written: dict) -> None:
        """Keep the triples this write left (see :meth:`replace_graphs`), valid at the new generation."""
        keep = dict(known)  # graphs written earlier and not since: still as remembered
        for g, triples in written.items():
            keep.pop(g, None)
            if triples is not None:
                keep[g] = triples  # newest last
        total = sum(len(t) for t in keep.values())
        for g in list(keep):  # oldest first
            if total <= self.KNOWN_LIMIT:
                break
            total -= len(keep.pop(g))
        self._known, self._known_gen = keep, self._generation

    def apply(self, delete, insert):
        delete, insert = as_quads(delete), as_quads(insert)
        ops = data_ops(delete, insert)
        if not ops:
            return
        with self._write_lock:
            self._check_open()
            tx = self._tx
            change = change_of(delete + insert)
            if tx is not None:
                tx.ops += ops
                tx.touched |= {q.graph_name.value for q in delete + insert}  # a later replace rewrites them whole
                tx.note(change)
                return
            self._commit(ops, change)

    def _update_now(self, ops: list[str]) -> None:
        try:
            self.ox.update(" ;\n".join(ops))
        except SyntaxError as e:  # a term Oxigraph refuses (e.g. in DELETE DATA): nothing written
            raise LoadError(f"cannot store these triples: {e}") from None

    def _commit(self, ops, change=None):
        self._update_now(ops)
        self._bump(change)
        self._known = {}  # any other write: what replace_graphs remembered is stale (and its generation too)
        self.flush()

    def flush(self):
        if self.path and self._ox is not None:
            self._ox.flush()

    # snapshots, workers -----------------------------------------------------------------------
    def snapshot(self) -> Store:
        """In memory: a copy made under the write lock (O(store)); on disk: a RocksDB checkpoint
        (hard links) opened read-only, deleted when the snapshot is closed."""
        with self._write_lock:
            store = self.ox
            gen = self._generation
            if self.path is None:
                copy = ox.Store()
                copy.extend(store.quads_for_pattern(None, None, None, None))
                return Snapshot(copy, gen, self.location)
            base = self.path.parent / f".{self.path.name}.snapshots"
            base.mkdir(parents=True, exist_ok=True)
            for d in base.iterdir():  # snapshots left by a process that is gone
                pid = d.name.split("-", 1)[0]
                if pid.isdigit() and not pid_alive(int(pid)):
                    shutil.rmtree(d, ignore_errors=True)
            target = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))
            target.rmdir()  # backup() creates it
            store.backup(str(target))
        return Snapshot(ox.Store.read_only(str(target)), gen, self.location, folder=target)

    def worker_access(self) -> WorkerAccess:
        self._check_open()
        if not self.capabilities.workers:
            return super().worker_access()
        return WorkerAccess(self)


class Snapshot(EmbeddedStore):
    """A read-only view (:meth:`Store.snapshot`): the reads of an embedded store over a frozen copy."""

    def __init__(self, store: ox.Store, generation, of: str, folder: Path | None = None):
        Store.__init__(self)
        self.path, self._folder, self._of = None, folder, of
        self._ox = store
        self._ds = Dataset(store=OxigraphStore(store=store), default_union=True)
        self._generation = generation
        self.read_executor = None
        if folder is not None:  # a snapshot dropped without close() still leaves no checkpoint behind
            weakref.finalize(self, shutil.rmtree, folder, True)

    @property
    def location(self) -> str:
        return f"snapshot of {self._of}"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(workers=False, persistent=False, shared=False, gsp=False, snapshots=False)

    def _read_only(self, *_a, **_k):
        self._check_open()
        raise StoreUnsupported("a snapshot is read-only: write to the store it was taken from")

    replace_graphs = apply = _commit = _read_only

    def snapshot(self):
        return Store.snapshot(self)

    def worker_access(self):
        return Store.worker_access(self)

    def _release(self):
        self._ox = self._ds = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _held(lock) -> bool:
    """Whether a write holds the store's re-entrant lock: this thread (mid-transaction) or another."""
    if lock._is_owned():
        return True
    if lock.acquire(blocking=False):
        lock.release()
        return False
    return True


def open_store(path: str | Path | None) -> Store:
    """The store ``GAPMAP_STORE`` names: a SPARQL server when it is an ``http(s)://`` URL
    (``ontology.store_remote.RemoteStore``), else embedded Oxigraph at ``path`` (in memory when empty/``None``)."""
    if isinstance(path, str) and path.startswith(("http://", "https://")):
        return plugin("remote")(path)
    return EmbeddedStore(path)


#: store implementations by name, as "module:Class" (rdflib plugin style): imported on first use, so this module
#: (the contract) never imports its implementations back
STORES = {"embedded": "ontology.store:EmbeddedStore", "remote": "ontology.store_remote:RemoteStore"}


def plugin(name: str) -> type[Store]:
    """The store class registered as ``name``."""
    import importlib

    module, _, cls = STORES[name].partition(":")
    return getattr(importlib.import_module(module), cls)
