"""Worker processes of the SPARQL engine (:class:`ontology.sparql.SparqlEngine`): evaluation
under a hard timeout, outside the request's process.

Why evaluation runs in another process
    Oxigraph evaluates in Rust and cannot be interrupted from Python, so a thread cannot stop a
    runaway query.  Queries are therefore evaluated by worker processes (at most ``workers`` at
    once); the main process sends the job down a pipe and waits on the answer with a timeout.
    When the timeout passes the worker gets SIGKILL (reaped on a background thread) and is
    replaced at the next query; the main process was only waiting on a pipe, so it is fully
    usable at once.  Workers also arm ``alarm()`` (timeout + 2 s) for each job, so they die on
    their own should the main process vanish mid-query, and exit on EOF when it is gone.

    * On-disk store: workers are fresh interpreters (``python -c`` running :func:`_worker_main`,
      nothing inherited but two pipes).  They cannot safely open the live RocksDB folder
      read-only while the main process writes to it (pyoxigraph documents that as undefined
      behaviour, and here a ``Store.read_only()`` racing a background compaction failed with
      "No such file or directory: .../000022.sst ... MANIFEST may be corrupted").  So the main
      process makes a RocksDB checkpoint (``WorkerAccess.checkpoint``: a memtable flush + hard links),
      under the store's write lock so a half-done ``replace_graphs`` is never captured, and workers
      open that immutable snapshot with ``Store.read_only``.  A new snapshot is made lazily, at
      the first query after the store changed, detected by ``WorkerAccess.key()`` (the store's
      ``generation`` *and* a stamp of its WAL/MANIFEST/CURRENT files, which also change on writes
      that bypass ``EmbeddedStore``); a worker reopens when its job names a newer
      snapshot.  Old snapshots are deleted once no worker has them open; a crashed process's
      snapshots are deleted by the next engine on the same store.
    * In-memory store (tests, ``STORE_PATH=""``): workers are ``os.fork()``ed from the main
      process (under the store's write lock) and evaluate on the store they inherited
      copy-on-write.  A worker forked before the last write (``generation`` changed) is retired
      and a fresh one forked, so results are always current for writes made through
      ``EmbeddedStore`` (``WorkerAccess.fork`` forks under the write lock).

Overhead measured (2-core VM, Python 3.11; median of 200; ``SELECT * { ?s ?p ?o } LIMIT 3`` as
SPARQL JSON; direct ``Store.query`` + ``serialize`` in-process takes ~0.015-0.02 ms):

    * steady state: +0.03-0.04 ms per query with forked workers (in-memory), +0.08-0.09 ms with
      snapshot workers (on disk): a pipe round trip and a pickle;
    * first query after a write, on disk: + checkpoint ~35-45 ms (1k or 300k triples: mostly
      the flush's fsyncs) + worker reopen ~25-35 ms; in memory: + one fork, ~1 ms for a 50 MiB
      process but ~40 ms per GiB of parent RSS on this VM (page tables; the child's exit costs as
      much again, which is why reaping is done off the request path);
    * a new snapshot worker costs ~50-90 ms to start (first query, and after each timeout).

Results are serialised by Oxigraph in the child (SPARQL JSON/XML/CSV/TSV; Turtle, N-Triples,
RDF/XML, JSON-LD) and capped at ``max_result_bytes``: a larger result is refused with a
:class:`QueryError` asking for a LIMIT rather than exhausting memory.
"""
from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import weakref
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .errors import GapmapError, QueryAborted  # noqa: F401  (QueryAborted re-exported)
from .sparql_formats import GRAPH_MEDIA_TYPES, RESULTS_MEDIA_TYPES
from .store import pid_alive, open_checkpoint
from .store_terms import to_python

if TYPE_CHECKING:
    from .sparql import SparqlEngine


# --------------------------------------------------------------------------- evaluation (any process)
class _CappedBuffer:
    """A write-only byte sink that refuses to grow past ``cap`` bytes."""

    def __init__(self, cap: int | None):
        self.cap, self.parts, self.size, self.overflow = cap, [], 0, False

    def write(self, b) -> int:
        n = len(b)
        if self.cap is not None and self.size + n > self.cap:
            self.overflow = True
            raise OSError("result too large")
        self.parts.append(bytes(b))
        self.size += n
        return n

    def flush(self):
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def term_out(t) -> tuple:
    if isinstance(t, ox.NamedNode):
        return ("iri", t.value)
    if isinstance(t, ox.BlankNode):
        return ("bnode", t.value)
    return ("lit", t.value, t.datatype.value if t.language is None else None, t.language)


def _term_in(t: tuple):
    if t[0] == "iri":
        return ox.NamedNode(t[1])
    if t[0] == "bnode":
        return ox.BlankNode(t[1])
    if t[3] is not None:
        return ox.Literal(t[1], language=t[3])
    return ox.Literal(t[1], datatype=ox.NamedNode(t[2]))


def _execute_select(store: ox.Store, job: dict) -> tuple:
    """A named query of the read layer (``Store.select``): rows of plain Python values."""
    subs = {ox.Variable(k): _term_in(v) for k, v in job["substitutions"]}
    try:
        res = store.query(job["query"], use_default_graph_as_union=True, substitutions=subs)
        names = [v.value for v in res.variables]
        rows = [{n: to_python(t) for n, t in zip(names, row)} for row in res]
    except SyntaxError as e:
        return ("error", "SyntaxError", str(e))
    except Exception as e:  # noqa: BLE001
        return ("error", type(e).__name__, str(e))
    return ("ok", "rows", rows)


def _execute(store: ox.Store, job: dict) -> tuple:
    """Evaluate ``job`` on ``store``; returns ("ok", media_type, body) or ("error", kind, message)."""
    if job.get("kind") == "select":
        return _execute_select(store, job)
    kw: dict = {"prefixes": job["prefixes"]}
    if job["default_graph"] is not None or job["named_graphs"] is not None:
        # An explicit dataset replaces the query's FROM / FROM NAMED in Oxigraph: what is not
        # listed here cannot be reached by the query, whatever its text says.
        kw["default_graph"] = [ox.NamedNode(u) for u in job["default_graph"] or []]
        kw["named_graphs"] = [ox.NamedNode(u) for u in job["named_graphs"] or []]
    elif not job["has_dataset"]:
        kw["use_default_graph_as_union"] = True
    out = _CappedBuffer(job["max_bytes"])
    try:
        res = store.query(job["query"], **kw)
        if isinstance(res, ox.QueryTriples):
            fmt = job["graph_format"]
            if fmt is None:
                return ("error", "NotAcceptable", "the query returns a graph, but no RDF format was acceptable")
            rdf = getattr(ox.RdfFormat, fmt)
            prefixes = job["prefixes"] if fmt in ("TURTLE", "RDF_XML") else None
            ox.serialize(res, out, rdf, prefixes=prefixes)
            media = GRAPH_MEDIA_TYPES[fmt]
        else:
            fmt = job["results_format"]
            if fmt is None:
                return ("error", "NotAcceptable", "the query returns results, but no results format was acceptable")
            res.serialize(out, getattr(ox.QueryResultsFormat, fmt))
            media = RESULTS_MEDIA_TYPES[fmt]
    except SyntaxError as e:
        return ("error", "SyntaxError", str(e))
    except Exception as e:  # noqa: BLE001 - everything is reported to the caller
        if out.overflow:
            return ("error", "TooLarge", str(job["max_bytes"]))
        return ("error", type(e).__name__, str(e))
    return ("ok", media, out.getvalue())


def alarm_seconds(timeout: float) -> int:
    return int(math.ceil(timeout)) + 2


#: a worker idle this long exits (the engine starts another when needed), so engines that are
#: no longer used (e.g. apps made by tests) do not keep processes and copy-on-write memory
IDLE_EXIT = 120.0


def _serve(cin, cout, open_store, idle_exit: float = IDLE_EXIT, sandbox: bool = True) -> None:
    """A worker's loop: evaluate jobs until EOF or ``idle_exit`` seconds without a job.
    ``open_store(snapshot)`` gives the store to query."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # alarm() kills us if the parent stops watching
    if sandbox:
        from .sandbox import deny_network
        try:
            deny_network()  # before any query: no socket can be opened or used from here on
        except OSError as e:
            cout.send(("nosandbox", f"{e}"))
            return
    cout.send(("ready", os.getpid()))
    store, opened = None, object()
    while True:
        try:
            if not cin.poll(idle_exit):
                break
            job = cin.recv()
        except (EOFError, OSError):
            break
        signal.alarm(job["alarm"])
        try:
            if job["snapshot"] != opened:
                store, opened = None, object()
                store = open_store(job["snapshot"])
                opened = job["snapshot"]
            res = _execute(store, job)
        except Exception as e:  # noqa: BLE001
            res = ("error", "Aborted", f"{type(e).__name__}: {e}")
        signal.alarm(0)
        try:
            cout.send(res)
        except (OSError, EOFError):
            break


def _worker_main(rfd: int, wfd: int, idle_exit: float = IDLE_EXIT, sandbox: bool = True) -> None:
    """Entry point of a snapshot worker process (started with ``python -c``)."""
    from multiprocessing.connection import Connection
    _serve(Connection(rfd, writable=False), Connection(wfd, readable=False), open_checkpoint, idle_exit, sandbox)
    os._exit(0)


class InlineExecutor:
    mode = "inline"

    def __init__(self, engine: SparqlEngine):
        self.engine = engine

    def run(self, job):
        return _execute(self.engine.access.engine(), job)

    def close(self):
        pass


class _Worker:
    """One evaluating process and its two pipes."""

    def __init__(self, cin, cout, *, proc: subprocess.Popen | None = None, pid: int | None = None,
                 generation=None):
        self.cin, self.cout, self.proc = cin, cout, proc
        self.pid = proc.pid if proc is not None else pid
        self.generation = generation  # fork workers: the store generation they inherited
        self.snapshot: str | None = None  # snapshot workers: the snapshot they have open

    def stop(self):
        """Close the pipes and SIGKILL the process (instant); :meth:`wait` reaps it."""
        for c in (self.cin, self.cout):
            try:
                c.close()
            except OSError:
                pass
        try:
            if self.proc is not None:
                self.proc.kill()
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def alive(self) -> bool:
        """False once the process has exited (it is then reaped)."""
        if self.proc is not None:
            return self.proc.poll() is None
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def wait(self):
        if self.proc is not None:
            self.proc.wait()
        else:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass

    def kill(self):
        self.stop()
        self.wait()


def _reap(worker: _Worker) -> None:
    worker.stop()
    # Tearing down a big forked address space takes ~40 ms per GiB here: not on the request's time.
    threading.Thread(target=worker.wait, name="sparql-reaper", daemon=True).start()


def _shutdown(workers: set, root: Path | None) -> None:
    for w in list(workers):
        w.kill()
    workers.clear()
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


class _Pool:
    """At most ``engine.workers`` evaluating processes; a job is sent to an idle one and the
    process is killed (and later replaced) if no answer comes within the timeout."""

    mode = "?"
    root: Path | None = None

    def __init__(self, engine: SparqlEngine):
        self.engine = engine
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0
        self._finalizer = weakref.finalize(self, _shutdown, self._all, self.root)

    def _spawn(self) -> _Worker:
        raise NotImplementedError

    def _acquire(self, fresh) -> _Worker | None:
        deadline = time.monotonic() + self.engine.timeout
        with self._cond:
            while True:
                while self._idle:
                    w = self._idle.pop()
                    if fresh(w) and w.alive():
                        return w
                    self._all.discard(w)  # stale (forked before a write) or exited when idle
                    _reap(w)
                if len(self._all) + self._starting < self.engine.workers:
                    self._starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
        try:
            w = self._spawn()
            with self._cond:
                self._all.add(w)
            self.engine.stats["spawned"] += 1
            return w
        finally:
            with self._cond:
                self._starting -= 1
                self._cond.notify()

    def _release(self, w: _Worker):
        with self._cond:
            self._idle.append(w)
            self._cond.notify()

    def _discard(self, w: _Worker):
        with self._cond:
            self._all.discard(w)
            self._cond.notify()
        _reap(w)

    def _exchange(self, job: dict, fresh) -> tuple:
        eng = self.engine
        w = self._acquire(fresh)
        if w is None:
            return ("error", "Busy", str(eng.workers))
        ok = False
        try:
            w.snapshot = job["snapshot"]
            w.cin.send(job)
            if not w.cout.poll(eng.timeout):
                eng.stats["killed"] += 1
                return ("error", "Timeout", "")
            res = w.cout.recv()
            ok = not (res[0] == "error" and res[1] == "Aborted")
            return res
        except (EOFError, OSError):
            return ("error", "Aborted", "the evaluating process died (out of memory?)")
        finally:
            if ok:
                self._release(w)
            else:
                self._discard(w)

    def close(self):
        self._finalizer()


class ForkPool(_Pool):
    """In-memory store: workers are ``os.fork()``ed from this process and evaluate on the store
    they inherited (copy-on-write).  A worker forked before the last write is retired."""

    mode = "fork"

    def _spawn(self) -> _Worker:
        from multiprocessing.connection import Connection
        access = self.engine.access
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        with self._cond:
            others = [fd for w in self._all for fd in (w.cin.fileno(), w.cout.fileno())]
        pid, generation = access.fork()  # never in the middle of a write
        if pid == 0:  # child
            try:
                for fd in (w1, r2, *others):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                _serve(Connection(r1, writable=False), Connection(w2, readable=False), lambda _snap: access.engine(),
                       self.engine.idle_exit, self.engine.sandbox)
            finally:
                os._exit(0)
        os.close(r1)
        os.close(w2)
        w = _Worker(Connection(w1, readable=False), Connection(r2, writable=False), pid=pid, generation=generation)
        hello = w.cout.recv() if w.cout.poll(30) else ("timeout", "")
        if hello[0] != "ready":
            _reap(w)
            raise QueryAborted(f"could not start a SPARQL worker process: {hello[1]}")
        return w

    def run(self, job):
        gen = self.engine.access.key()
        return self._exchange(dict(job, snapshot=None), lambda w: w.generation == gen)


class SnapshotPool(_Pool):
    """On-disk store: worker processes evaluating on read-only checkpoints of the store."""

    mode = "pool"

    def __init__(self, engine: SparqlEngine, path: Path):
        self.path = path
        base = path.parent / f".{path.name}.sparql-snapshots"
        base.mkdir(parents=True, exist_ok=True)
        for d in base.iterdir():  # leftovers of engines whose process is gone
            pid = d.name.split("-", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(d, ignore_errors=True)
        self.root = base / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.root.mkdir()
        self._snap_lock = threading.Lock()
        self._snap_key = None
        self._snap_dir: str | None = None
        self._inflight: Counter = Counter()
        super().__init__(engine)

    # snapshots ------------------------------------------------------------
    def _snapshot(self) -> str:
        """The current snapshot (made now if the store changed), counted as in use until
        :meth:`_done` is called with it."""
        access = self.engine.access
        with self._snap_lock:
            if self._snap_dir is None or self._snap_key != access.key():
                target = self.root / f"snap-{uuid.uuid4().hex[:12]}"
                try:
                    self._snap_key = access.checkpoint(target)
                except (OSError, RuntimeError) as e:
                    shutil.rmtree(target, ignore_errors=True)
                    raise QueryAborted(f"could not snapshot the store for querying: {e}") from None
                self._snap_dir = str(target)
                self.engine.stats["snapshots"] += 1
                self._gc()
            self._inflight[self._snap_dir] += 1
            return self._snap_dir

    def _done(self, snap: str):
        with self._snap_lock:
            self._inflight[snap] -= 1
            if snap != self._snap_dir and self._inflight[snap] <= 0:
                self._gc()

    def _gc(self):
        """Delete snapshots that are neither current, nor about to be used, nor open in a worker.
        Called with ``_snap_lock`` held."""
        with self._cond:
            used = {w.snapshot for w in self._all}
        used |= {d for d, n in self._inflight.items() if n > 0} | {self._snap_dir}
        for d in list(self._inflight):
            if d not in used:
                del self._inflight[d]
        for d in self.root.iterdir():
            if str(d) not in used:
                shutil.rmtree(d, ignore_errors=True)

    # workers --------------------------------------------------------------
    def _spawn(self) -> _Worker:
        from multiprocessing.connection import Connection
        r1, w1 = os.pipe()  # job pipe: parent writes w1, worker reads r1
        r2, w2 = os.pipe()  # result pipe: worker writes w2, parent reads r2
        pkg_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_root, env.get("PYTHONPATH")) if p)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", "import sys; from ontology.sparql_workers import _worker_main; "
                 "_worker_main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == '1')",
                 str(r1), str(w2), repr(self.engine.idle_exit), "1" if self.engine.sandbox else "0"],
                pass_fds=(r1, w2), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env,
                start_new_session=True)
        finally:
            os.close(r1)
            os.close(w2)
        w = _Worker(Connection(w1, readable=False), Connection(r2, writable=False), proc=proc)
        hello = w.cout.recv() if w.cout.poll(60) else ("timeout", "")
        if hello[0] != "ready":
            w.kill()
            raise QueryAborted(f"could not start a SPARQL worker process: {hello[1]}")
        return w

    def run(self, job):
        snap = self._snapshot()
        try:
            return self._exchange(dict(job, snapshot=snap), lambda w: True)
        finally:
            self._done(snap)
