"""What-if drafts: a named scenario of a program, kept apart from the live graph, then discarded or applied.

A draft is a copy of the live store's graphs (all but saved report snapshots) in a store of its own (in memory,
or on disk beside the live store), so nothing in a draft can leak into live reports, which read the union of
the live store's graphs.  Edits (add / remove / move a course, session, objective or assessment, change an
objective's level, swap the framework version) change the draft's copies of the program's curriculum,
assessments and alignments graphs.  Every report function (gap report, readiness, progression, health) runs on
the draft's store exactly as on the live one, so the draft can be shown next to today.

A *version* is a frozen copy taken the same way (``frozen=True``): the curriculum as it stood when a year was
rolled over.  The live curriculum carries on as next year's with every decision kept; the version is compared
with it like a draft, and is never edited or applied.

Applying a draft replaces every graph the draft changed, in one transaction (``store.replace_graphs``), together
with a snapshot of today's gap report (so ``/changes`` can say what the draft changed) and a PROV record of who
applied it (``graph/drafts/{name}``).  A graph that changed in the live store since the draft was taken is a
conflict: nothing is written and the draft must be rebased (made again) or discarded.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import re
import shutil
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from .errors import GapmapError, NotFound
from .store import EmbeddedStore, Store
from .vocab import ACCEPTED, ASSESSMENT_KINDS, DCTERMS, GM, PROV, RDF, RDFS, SCHEMA, SKOS

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
OPS = ("add_course", "remove_course", "move_course", "set_course", "add_session", "remove_session",
       "add_objective", "remove_objective", "move_objective", "set_level", "add_assessment",
       "remove_assessment", "swap_framework")
#: the fields each edit takes (besides "op"): any other is refused, naming it (never silently ignored)
OP_FIELDS = {
    "add_course": {"code", "title", "year"}, "remove_course": {"code"}, "move_course": {"code", "year"},
    "set_course": {"code", "title", "year"}, "add_session": {"course", "id", "title"},
    "remove_session": {"course", "id"},
    "add_objective": {"course", "id", "text", "session", "level", "competencies"}, "remove_objective": {"id"},
    "move_objective": {"id", "course", "session"}, "set_level": {"id", "level"},
    "add_assessment": {"course", "id", "title", "kind", "level", "competencies", "objectives"},
    "remove_assessment": {"id"}, "swap_framework": {"framework"}}


class DraftError(GapmapError):
    status = 400
    title = "Invalid draft request"


class DraftConflict(GapmapError):
    status = 409
    title = "Draft conflict"


def _digest(g: Graph) -> str:
    lines = sorted(f"{s.n3()} {p.n3()} {o.n3()}" for s, p, o in g)
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()


def graph_digest(store: Store, name: str) -> str:
    """A digest of one named graph's content (order-independent); straight from Oxigraph when possible."""
    ox_store = getattr(store, "ox", None)
    if ox_store is None:
        return _digest(store.graph(URIRef(name)))
    import pyoxigraph as ox
    lines = sorted(f"{q.subject} {q.predicate} {q.object}"
                   for q in ox_store.quads_for_pattern(None, None, None, ox.NamedNode(str(name))))
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()


def _draft_of(m: dict, store: EmbeddedStore) -> Draft:
    """A draft from its ``meta.json`` and its store."""
    return Draft(store=store, base=m["base"], frozen=bool(m.get("frozen")),
                 **{k: m[k] for k in ("name", "program", "created_by", "created_at", "edits", "framework")})


def _skip(name: str, ids) -> bool:
    """Graphs a draft does not copy: saved reports, drafts' PROV, and private (personal) data, so that a
    draft holds only public curriculum data and SPARQL over it needs no per-user filtering."""
    from .access import is_private
    return (name.startswith(str(ids.graph("reports", ""))) or name.startswith(str(ids.graph("drafts", "")))
            or is_private(ids, name))


@dataclass
class Draft:
    name: str
    program: str
    created_by: str
    created_at: str
    store: EmbeddedStore
    base: dict[str, str]  # graph -> digest when the draft was taken
    edits: list[dict] = field(default_factory=list)
    framework: str | None = None  # set by swap_framework
    #: a frozen copy is a saved version (a curriculum year archived at roll-over): compared, never edited or applied
    frozen: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    engine: object = field(default=None, repr=False)  # a SparqlEngine over the draft's store, made on first use
    #: during a batch of edits: each graph the batch wrote, as it was before (to put back if an edit fails)
    undo: dict | None = field(default=None, repr=False)

    def write(self, delete: list, insert: list) -> None:
        """One edit's write to the draft's store; inside a batch, each touched graph is kept first."""
        if self.undo is not None:
            for g in {q[3] for q in (*delete, *insert)}:
                if URIRef(g) not in self.undo:
                    self.undo[URIRef(g)] = self.store.graph(URIRef(g))
        self.store.apply(delete=delete, insert=insert)

    def sparql(self, timeout: float | None = 10.0):
        """A read-only SPARQL engine over the draft's graphs (same limits as the live endpoint)."""
        if self.engine is None:
            from .sparql import SparqlEngine
            self.engine = SparqlEngine(self.store, timeout=timeout, workers=1)
        return self.engine

    def meta(self) -> dict:
        return {"name": self.name, "program": self.program, "created_by": self.created_by,
                "created_at": self.created_at, "framework": self.framework, "frozen": self.frozen,
                "edits": self.edits}

    def changed_graphs(self) -> dict[str, Graph]:
        """The draft's graphs that differ from what they were when the draft was taken."""
        out = {}
        for name in set(self.base) | set(self.store.graph_names()):
            if self.base.get(name) != graph_digest(self.store, name):
                out[name] = self.store.graph(URIRef(name))
        return out


def _load_nq(path: Path) -> EmbeddedStore | None:
    """An in-memory store holding an N-Quads file (None when the file is gone)."""
    import pyoxigraph as ox
    store = EmbeddedStore(None)
    try:
        store.ox.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    except OSError:
        return None
    return store


class Drafts:
    """The drafts of one workspace; on disk under ``root`` (one store folder + ``meta.json`` each) or in memory.

    ``shared=True`` (a remote live store, served by several processes): each draft is a ``graphs.nq`` file and a
    ``meta.json`` under ``root``, which every process of the host reads; a process keeps an in-memory copy and
    loads it again when the draft's ``version`` moved.  Every write takes the draft's file lock (``flock``),
    re-reads the draft first, and writes the graphs then the meta (each atomically), so two processes never
    lose or mix each other's edits, and a process that dies half-way leaves the previous version.
    """

    def __init__(self, root: str | Path | None = None, *, shared: bool = False):
        self.root = Path(root) if root else None
        self.shared = bool(shared and self.root)
        self._drafts: dict[str, Draft] = {}
        self._versions: dict[str, int] = {}  # shared: the version each in-memory copy was loaded at
        self._lock = threading.Lock()
        if self.shared:
            self.root.mkdir(parents=True, exist_ok=True)
            return
        if self.root and self.root.exists():
            for d in sorted(self.root.iterdir()):
                meta = d / "meta.json"
                if meta.exists():
                    try:
                        m = json.loads(meta.read_text("utf-8"))
                        self._drafts[m["name"]] = _draft_of(m, EmbeddedStore(d / "store"))
                    except (OSError, ValueError, KeyError):
                        continue

    # shared mode: files under root, read by every process --------------------------------------------
    def _sync(self, only: str | None = None) -> None:
        """Bring the in-memory copies up to the files (shared mode): new and changed drafts loaded, gone ones
        dropped.  ``only``: just that draft."""
        if not self.shared:
            return
        names = [only] if only is not None else [p.name for p in self.root.iterdir() if p.is_dir()]
        with self._lock:
            for name in names:
                meta = self.root / name / "meta.json"
                try:
                    m = json.loads(meta.read_text("utf-8"))
                except (OSError, ValueError):
                    m = None
                if m is None or m.get("name") != name:
                    gone = self._drafts.pop(name, None)
                    self._versions.pop(name, None)
                    if gone is not None and gone.engine is not None:
                        gone.engine.close()
                    continue
                if self._versions.get(name) == m.get("version") and name in self._drafts:
                    continue
                store = _load_nq(self.root / name / f"graphs.{m.get('version', 0)}.nq")
                if store is None:  # a newer version replaced this one meanwhile: the next read takes it
                    continue
                old = self._drafts.get(name)
                self._drafts[name] = d = _draft_of(m, store)
                if old is not None:
                    d.lock = old.lock  # threads of this process keep waiting on the same lock
                self._versions[name] = m.get("version", 0)
            if only is None:
                for name in set(self._drafts) - set(names):
                    self._drafts.pop(name, None)
                    self._versions.pop(name, None)

    def _file_lock(self, name: str):
        """The draft's cross-process lock (shared mode; a no-op context otherwise)."""
        if not self.shared or not isinstance(name, str) or not _NAME.match(name):
            return contextlib.nullcontext()  # an invalid name is refused (404/400) without touching a file

        @contextlib.contextmanager
        def held():
            with open(self.root / f".{name}.lock", "a+") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)
        return held()

    def _save(self, d: Draft) -> None:
        if not self.root:
            return
        folder = self.root / d.name
        version = None
        if self.shared:  # the graphs first (a new file per version), then the meta that names it
            import pyoxigraph as ox
            version = self._versions.get(d.name, 0) + 1
            tmp = folder / f"graphs.{version}.nq.tmp"
            d.store.ox.dump(str(tmp), format=ox.RdfFormat.N_QUADS)
            tmp.replace(folder / f"graphs.{version}.nq")
        p = folder / "meta.json"
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps({**d.meta(), "base": d.base, **({"version": version} if version else {})}), "utf-8")
        tmp.replace(p)
        if version:
            old = self._versions.get(d.name)
            self._versions[d.name] = version
            if old:
                (folder / f"graphs.{old}.nq").unlink(missing_ok=True)

    def list(self, program: str | None = None, *, frozen: bool = False) -> list[dict]:
        self._sync()
        return [{k: v for k, v in d.meta().items() if k != "edits"} | {"edits": len(d.edits)}
                for d in self._drafts.values() if (program is None or d.program == program) and d.frozen == frozen]

    def get(self, name: str) -> Draft:
        if isinstance(name, str) and _NAME.match(name):  # a name is a folder name in shared mode
            self._sync(name)
        d = self._drafts.get(name) if isinstance(name, str) else None
        if d is None:
            raise NotFound(f"no draft or saved version {name!r}", field="draft")
        return d

    def create(self, live: Store, ids, name: str, program: str, user: str, *, frozen: bool = False) -> Draft:
        if not isinstance(name, str) or not _NAME.match(name):
            raise DraftError("name must be 1-64 letters, digits, '-', '_' or '.'", field="name")
        if not any(r["id"] == program for r in live.select("programs")):
            raise NotFound(f"program {program!r} is not loaded", field="program")
        with self._file_lock(name):
            self._sync(name)
            return self._create(live, ids, name, program, user, frozen)

    def _create(self, live, ids, name, program, user, frozen) -> Draft:
        with self._lock:
            if name in self._drafts:
                raise DraftConflict(f"a draft named {name!r} exists", field="name")
            path = (self.root / name) if self.root else None
            if path:  # shared: a folder without meta.json is what a process that died while creating left
                path.mkdir(parents=True, exist_ok=self.shared)
            store = EmbeddedStore(path / "store" if path and not self.shared else None)
            names = [g for g in live.graph_names() if not _skip(g, ids)]
            base = {g: graph_digest(live, g) for g in names}
            if getattr(live, "ox", None) is not None:  # quad by quad, Oxigraph to Oxigraph
                import pyoxigraph as ox
                for g in names:
                    store.ox.extend(live.ox.quads_for_pattern(None, None, None, ox.NamedNode(g)))
                store.flush()
            else:
                store.replace_graphs({URIRef(g): live.graph(URIRef(g)) for g in names})
            d = Draft(name=name, program=program, created_by=user, frozen=frozen,
                      created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), store=store, base=base)
            self._drafts[name] = d
            self._save(d)
            return d

    def discard(self, name: str) -> None:
        with self._file_lock(name):
            self._discard(name)

    def _discard(self, name: str) -> None:
        d = self.get(name)
        if d.frozen:  # a kept year is the record of what was taught then: never deleted through the API
            raise DraftConflict(f"{name!r} is a saved version (a curriculum year kept at roll-over): "
                                "versions are kept, not deleted", field="draft")
        with d.lock:  # not while an edit or an apply is using its store
            self._drop(d)

    def _current(self, d: Draft) -> None:
        """Under ``d.lock``: the draft is still there (a concurrent apply or discard dropped it: 409)."""
        if self._drafts.get(d.name) is not d:
            raise DraftConflict(f"draft {d.name!r} was applied or discarded meanwhile", field="draft")

    def _drop(self, d: Draft) -> None:
        with self._lock:
            self._current(d)
            del self._drafts[d.name]
            if d.engine is not None:
                d.engine.close()
            self._versions.pop(d.name, None)
            if self.root:
                d.store.close()  # release the on-disk store before removing its folder
                shutil.rmtree(self.root / d.name, ignore_errors=True)

    def edit(self, ids, name: str, op: dict, user: str) -> dict:
        return self.edit_all(ids, name, [op], user)[0]

    def edit_all(self, ids, name: str, ops: list, user: str) -> list[dict]:
        """Apply a batch of edits in order, all or nothing: when one fails (its error names it as ``edit``,
        counted from 1), the graphs the earlier ones wrote are put back and no edit is recorded."""
        with self._file_lock(name):
            return self._edit_all(ids, name, ops, user)

    def _edit_all(self, ids, name: str, ops: list, user: str) -> list[dict]:
        d = self.get(name)
        if d.frozen:
            raise DraftConflict(f"{name!r} is a saved version: it cannot be edited", field="draft")
        with d.lock:
            self._current(d)
            framework, d.undo = d.framework, {}
            try:
                done = []
                for i, op in enumerate(ops, start=1):
                    try:
                        done.append(apply_edit(d, ids, op))
                    except GapmapError as e:
                        if len(ops) > 1:
                            e.details["edit"] = i
                            e.message = f"edit {i} of {len(ops)}: {e.message} (no edit of the batch was applied)"
                        raise
            except BaseException:
                if d.undo:
                    d.store.replace_graphs(d.undo)
                d.framework = framework
                raise
            finally:
                d.undo = None
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            d.edits += [{**op, "by": user, "at": now} for op in ops]
            self._save(d)
            return done

    def apply(self, live: Store, ids, name: str, user: str, *, framework: str) -> dict:
        """Write every graph the draft changed into the live store in one transaction, with PROV; drop the draft."""
        with self._file_lock(name):
            return self._apply(live, ids, name, user, framework=framework)

    def _apply(self, live: Store, ids, name: str, user: str, *, framework: str) -> dict:
        from .changes import capture
        d = self.get(name)
        if d.frozen:
            raise DraftConflict(f"{name!r} is a saved version: it cannot be applied", field="draft")
        with d.lock:  # two applies at once: the second waits here, then finds the draft gone (409)
            self._current(d)
            changed = d.changed_graphs()
            if not changed:
                raise DraftError("the draft changes nothing", field="draft")
            stale = sorted(g for g in changed if g in d.base and graph_digest(live, g) != d.base[g])
            if stale:
                raise DraftConflict("the live graphs changed since the draft was taken: " + ", ".join(stale)
                                    + "; discard the draft and make it again", field="draft")
            now = datetime.now(timezone.utc)
            snap = capture(live, ids, d.program, framework, f"before applying draft {name}", now=now)
            prov_g = ids.graph("drafts", name)
            act = ids.activity(f"draft-{name}-{now.strftime('%Y%m%dT%H%M%S')}")
            agent = ids.agent(user)
            p = Graph()
            p.add((act, RDF.type, PROV.Activity))
            p.add((act, RDF.type, GM.DraftApplication))
            p.add((act, RDFS.label, Literal(f"applied draft {name}")))
            p.add((act, PROV.wasAssociatedWith, agent))
            p.add((agent, RDF.type, PROV.Person))
            p.add((agent, RDFS.label, Literal(user)))
            p.add((act, PROV.endedAtTime, Literal(now.isoformat(timespec="seconds"), datatype=XSD.dateTime)))
            p.add((act, DCTERMS.description, Literal(json.dumps(d.edits))))
            for g in changed:
                p.add((act, PROV.generated, URIRef(g)))
            writes = {URIRef(g): gr for g, gr in changed.items()}
            writes[snap.graph_name] = snap.graph
            writes[prov_g] = p
            live.replace_graphs(writes)
            result = {"draft": name, "applied_by": user, "graphs": sorted(changed), "edits": len(d.edits),
                      "activity": str(act), "snapshot": str(snap.graph_name)}
            self._drop(d)  # still under d.lock: no other request reads its store once it is closed
        return result


# --- edits ---------------------------------------------------------------------------------------------
def _need(op: dict, key: str, kind=str):
    v = op.get(key)
    if kind is str:
        if not isinstance(v, str) or not v.strip():
            raise DraftError(f"{key} is required", field=key)
        return v.strip()
    if kind is int:
        if not isinstance(v, int) or isinstance(v, bool):
            raise DraftError(f"{key} must be a whole number", field=key)
        return v
    return v


def _id(op: dict, key: str) -> str:
    v = _need(op, key)
    if not _ID.match(v):
        raise DraftError(f"{key} {v!r} is not a valid id (letters, digits, '-', '_', '.')", field=key)
    return v


def _level(op: dict, key: str = "level", required: bool = False) -> int | None:
    v = op.get(key)
    if v in (None, "") and not required:
        return None
    if isinstance(v, str) and v.isdigit():
        v = int(v)
    if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5:
        raise DraftError(f"{key} must be a whole number from 1 to 5", field=key)
    return v


def _about(store: EmbeddedStore, node: URIRef) -> list[tuple]:
    """Every quad with ``node`` as subject or object."""
    import pyoxigraph as ox

    from .store_terms import from_ox
    n = ox.NamedNode(str(node))
    quads = list(store.ox.quads_for_pattern(n, None, None, None)) + list(store.ox.quads_for_pattern(None, None, n, None))
    return [(from_ox(q.subject), from_ox(q.predicate), from_ox(q.object), URIRef(q.graph_name.value)) for q in quads]


def _exists(store: Store, node: URIRef, cls: URIRef) -> bool:
    return bool(store.select("node_typed", n=node, cls=cls))


def _course_of(store: Store, node: URIRef) -> URIRef | None:
    rows = store.select("draft_node_course", n=node)
    return URIRef(rows[0]["c"]) if rows else None


def _competencies(store: Store, framework: str, notations) -> list[URIRef]:
    if notations in (None, ""):
        return []
    if isinstance(notations, str):
        notations = [n.strip() for n in notations.split(";") if n.strip()]
    if not isinstance(notations, list) or not all(isinstance(n, str) for n in notations):
        raise DraftError("competencies must be a list of notations", field="competencies")
    idx = {r["notation"]: URIRef(r["comp"]) for r in store.select("framework_competencies", fw=Literal(framework))}
    out = []
    for n in notations:
        if n not in idx:
            raise DraftError(f"unknown competency {n!r} in framework {framework!r}", field="competencies")
        out.append(idx[n])
    return out


def draft_framework(d: Draft) -> str:
    if d.framework:
        return d.framework
    for r in d.store.select("programs"):
        if r["id"] == d.program and r["fw"]:
            return r["fw"]
    raise NotFound(f"program {d.program!r} names no framework", field="framework")


def apply_edit(d: Draft, ids, op: dict) -> dict:
    """Apply one edit to the draft's store (one transaction); returns what it did."""
    if not isinstance(op, dict):
        raise DraftError("an edit is a JSON object with an 'op'", field="op")
    kind = op.get("op")
    if kind not in OPS:
        raise DraftError(f"op must be one of {', '.join(OPS)}", field="op")
    unknown = sorted(str(k) for k in op if k != "op" and k not in OP_FIELDS[kind])
    if unknown:
        raise DraftError(f"unknown field {unknown[0]!r} for {kind}: it takes {', '.join(sorted(OP_FIELDS[kind]))}",
                         field=unknown[0])
    s = d.store
    cur, asg, alg = (ids.graph("curriculum", d.program), ids.graph("assessments", d.program),
                     ids.graph("alignments", d.program))
    prog = ids.program(d.program)
    delete: list[tuple] = []
    insert: list[tuple] = []

    def course(code_key="course", must=True):
        code = _id(op, code_key)
        c = ids.course(code)
        rows = s.select("course_detail", code=Literal(code))
        if must and not (rows and rows[0]["pid"] == d.program):
            raise NotFound(f"course {code!r} is not in program {d.program!r}", field=code_key)
        return code, c, rows

    if kind == "add_course":
        code, c, rows = course("code", must=False)
        if rows:
            raise DraftError(f"course {code!r} exists", field="code")
        year = _need(op, "year", int)
        if not 1 <= year <= 8:
            raise DraftError("year must be from 1 to 8", field="year")
        insert += [(c, RDF.type, GM.Course, cur), (c, RDF.type, SCHEMA.Course, cur), (c, SKOS.notation, Literal(code), cur),
                   (c, DCTERMS.title, Literal(_need(op, "title")), cur), (c, GM.partOfProgram, prog, cur),
                   (c, GM.year, Literal(year, datatype=XSD.integer), cur)]
    elif kind in ("remove_course", "move_course", "set_course"):
        code, c, rows = course("code")
        if kind == "remove_course":
            nodes = [c] + [URIRef(r["n"]) for r in s.select("draft_course_parts", c=c)]
            for n in dict.fromkeys(nodes):
                delete += _about(s, n)
        else:
            if "year" in op:
                year = _need(op, "year", int)
                if not 1 <= year <= 8:
                    raise DraftError("year must be from 1 to 8", field="year")
                delete += [q for q in _about(s, c) if q[1] == GM.year and q[0] == c]
                insert.append((c, GM.year, Literal(year, datatype=XSD.integer), cur))
            if kind == "set_course" and op.get("title"):
                delete += [q for q in _about(s, c) if q[1] == DCTERMS.title and q[0] == c]
                insert.append((c, DCTERMS.title, Literal(_need(op, "title")), cur))
            if not insert:
                raise DraftError("give a year (or a title)", field="year")
    elif kind == "add_session":
        code, c, _ = course()
        sid = _id(op, "id")
        sn = ids.session(code, sid)
        if _exists(s, sn, GM.Session):
            raise DraftError(f"session {sid!r} exists in {code}", field="id")
        insert += [(sn, RDF.type, GM.Session, cur), (sn, SKOS.notation, Literal(sid), cur),
                   (sn, DCTERMS.title, Literal(op.get("title") or sid), cur), (sn, GM.partOfCourse, c, cur)]
    elif kind == "remove_session":
        code, c, _ = course()
        sn = ids.session(code, _id(op, "id"))
        if not _exists(s, sn, GM.Session):
            raise NotFound(f"no session {op['id']!r} in {code}", field="id")
        # its objectives stay in the course
        delete += _about(s, sn)
        insert += [(q[0], GM.objectiveOf, c, q[3]) for q in _about(s, sn) if q[1] == GM.objectiveOf and q[2] == sn]
    elif kind == "add_objective":
        code, c, _ = course()
        oid = _id(op, "id")
        o = ids.objective(oid)
        if _exists(s, o, GM.LearningObjective):
            raise DraftError(f"objective {oid!r} exists", field="id")
        parent = c
        if op.get("session"):
            parent = ids.session(code, _id(op, "session"))
            if not _exists(s, parent, GM.Session):
                raise NotFound(f"no session {op['session']!r} in {code}", field="session")
        insert += [(o, RDF.type, GM.LearningObjective, cur), (o, SKOS.notation, Literal(oid), cur),
                   (o, GM.text, Literal(_need(op, "text"), lang="en"), cur), (o, GM.objectiveOf, parent, cur),
                   (o, GM.inCourse, c, cur)]
        lv = _level(op)
        if lv is not None:
            insert.append((o, GM.targetLevel, Literal(lv, datatype=XSD.integer), cur))
        for comp in _competencies(s, draft_framework(d), op.get("competencies")):
            a = ids.alignment(oid, str(comp))
            insert += [(a, RDF.type, GM.Alignment, alg), (a, GM.alignedObjective, o, alg),
                       (a, GM.alignedCompetency, comp, alg), (a, GM.status, ACCEPTED, alg),
                       (a, GM.method, GM.ManualMethod, alg)]
    elif kind in ("remove_objective", "move_objective", "set_level"):
        oid = _id(op, "id")
        o = ids.objective(oid)
        if not _exists(s, o, GM.LearningObjective) or (c0 := _course_of(s, o)) is None or \
                not any(r["pid"] == d.program for r in s.select("course_detail", code=Literal(str(c0).rsplit("/", 1)[-1]))):
            raise NotFound(f"no objective {oid!r} in program {d.program!r}", field="id")
        if kind == "remove_objective":
            delete += _about(s, o)
            for r in s.select("draft_objective_alignments", o=o):
                delete += _about(s, URIRef(r["a"]))
        elif kind == "set_level":
            lv = _level(op, required=True)
            delete += [q for q in _about(s, o) if q[0] == o and q[1] == GM.targetLevel]
            insert.append((o, GM.targetLevel, Literal(lv, datatype=XSD.integer), cur))
        else:
            code, c, _ = course()
            parent = c
            if op.get("session"):
                parent = ids.session(code, _id(op, "session"))
                if not _exists(s, parent, GM.Session):
                    raise NotFound(f"no session {op['session']!r} in {code}", field="session")
            old = [q for q in _about(s, o) if q[0] == o and q[1] in (GM.inCourse, GM.objectiveOf)]
            delete += old
            g = old[0][3] if old else cur
            insert += [(o, GM.inCourse, c, g), (o, GM.objectiveOf, parent, g)]
    elif kind == "add_assessment":
        code, c, _ = course()
        aid = _id(op, "id")
        a = ids.assessment(aid)
        if _exists(s, a, GM.Assessment):
            raise DraftError(f"assessment {aid!r} exists", field="id")
        k = op.get("kind") or "written_exam"
        if k not in ASSESSMENT_KINDS:
            raise DraftError(f"kind must be one of {', '.join(ASSESSMENT_KINDS)}", field="kind")
        insert += [(a, RDF.type, GM.Assessment, asg), (a, RDF.type, ASSESSMENT_KINDS[k], asg),
                   (a, SKOS.notation, Literal(aid), asg), (a, DCTERMS.title, Literal(_need(op, "title")), asg),
                   (a, GM.assessmentIn, c, asg)]
        lv = _level(op)
        if lv is not None:
            insert.append((a, GM.assessedLevel, Literal(lv, datatype=XSD.integer), asg))
        for comp in _competencies(s, draft_framework(d), op.get("competencies")):
            insert.append((a, SCHEMA.assesses, comp, asg))
        objs = op.get("objectives") or []
        if isinstance(objs, str):
            objs = [x.strip() for x in objs.split(";") if x.strip()]
        for oid in objs:
            o = ids.objective(oid if isinstance(oid, str) and _ID.match(oid) else "?")
            if not _exists(s, o, GM.LearningObjective):
                raise NotFound(f"no objective {oid!r}", field="objectives")
            insert.append((a, GM.assessesObjective, o, asg))
    elif kind == "remove_assessment":
        aid = _id(op, "id")
        a = ids.assessment(aid)
        c0 = _course_of(s, a)
        if not _exists(s, a, GM.Assessment) or c0 is None or not any(
                r["pid"] == d.program for r in s.select("course_detail", code=Literal(str(c0).rsplit("/", 1)[-1]))):
            raise NotFound(f"no assessment {aid!r} in program {d.program!r}", field="id")
        delete += _about(s, a)
    elif kind == "swap_framework":
        new = _id(op, "framework")
        old = draft_framework(d)
        if new == old:
            raise DraftError(f"the draft already uses {new!r}", field="framework")
        new_idx = {r["notation"]: URIRef(r["comp"]) for r in s.select("framework_competencies", fw=Literal(new))}
        if not new_idx:
            raise NotFound(f"framework {new!r} is not loaded", field="framework")
        old_idx = {URIRef(r["comp"]): r["notation"] for r in s.select("framework_competencies", fw=Literal(old))}
        moved, lost = 0, []
        # every alignment and direct assessment of the program's objectives moves to the competency with the
        # same notation in the new version; those without a counterpart are reported (and dropped)
        for r in s.select("program_teaching", program=prog):
            a, comp = URIRef(r["alignment"]), URIRef(r["comp"])
            if comp not in old_idx:
                continue
            quads = [q for q in _about(s, a) if q[0] == a]
            delete += quads
            tgt = new_idx.get(old_idx[comp])
            if tgt is None:
                lost.append(old_idx[comp])
                continue
            moved += 1
            insert += [(q[0], q[1], tgt if q[1] == GM.alignedCompetency else q[2], q[3]) for q in quads]
        for r in s.select("program_assessments", program=prog):
            a = ids.assessment(r["aid"])
            for q in _about(s, a):
                if q[0] == a and q[1] == SCHEMA.assesses and q[2] in old_idx:
                    delete.append(q)
                    if old_idx[q[2]] in new_idx:
                        insert.append((a, SCHEMA.assesses, new_idx[old_idx[q[2]]], q[3]))
        fw_new = ids.framework(new)
        for q in _about(s, prog):
            if q[0] == prog and q[1] == GM.usesFramework:
                delete.append(q)
        insert.append((prog, GM.usesFramework, fw_new, cur))
        d.framework = new
        d.write(delete, insert)
        return {"op": kind, "from": old, "to": new, "alignments_moved": moved, "without_counterpart": sorted(set(lost)),
                "removed": len(delete), "added": len(insert)}
    d.write(list(dict.fromkeys(delete)), insert)
    return {"op": kind, "removed": len(set(delete)), "added": len(insert)}


# --- comparison ------------------------------------------------------------------------------------------
def compare(live: Store, d: Draft, ids, *, role: str | None = None, year: int | None = None,
            course: str | None = None, stage: str | None = "graduation") -> dict:
    """Today's gap report (and readiness when a role is given) next to the draft's, with the differences."""
    from .gaps import gap_report, role_readiness
    fw_live = next((r["fw"] for r in live.select("programs") if r["id"] == d.program), None)
    fw_draft = draft_framework(d)
    kw = dict(role=role, year=year, course=course, stage=stage)
    today = gap_report(live, ids, d.program, fw_live, **kw)
    draft = gap_report(d.store, ids, d.program, fw_draft, **kw)
    t = {e.notation: e for e in today.entries}
    rows = []
    for e in draft.entries:
        b = t.get(e.notation)
        changed = (b is None or b.status != e.status or b.level_reached != e.level_reached
                   or b.courses != e.courses or len(b.assessed_by) != len(e.assessed_by))
        rows.append({"notation": e.notation, "label": e.label, "domain": e.domain,
                     "today": b.status if b else None, "draft": e.status,
                     "level_today": b.level_reached if b else None, "level_draft": e.level_reached,
                     "courses_today": list(b.courses) if b else [], "courses_draft": list(e.courses),
                     "assessments_today": len(b.assessed_by) if b else 0, "assessments_draft": len(e.assessed_by),
                     "changed": changed})
    for n, b in t.items():
        if n not in {e.notation for e in draft.entries}:
            rows.append({"notation": n, "label": b.label, "domain": b.domain, "today": b.status, "draft": None,
                         "level_today": b.level_reached, "level_draft": None, "courses_today": list(b.courses),
                         "courses_draft": [], "assessments_today": len(b.assessed_by), "assessments_draft": 0,
                         "changed": True})
    # A draft taken before a live change compares against a base that is no longer today's: its
    # differences then include the live change, not only its edits.  Say so (graphs of frameworks other
    # than the program's are not digested: large, and a report does not read them).
    fw_prefix = str(ids.graph("framework", ""))
    keep = {str(ids.graph("framework", f)) for f in (fw_live, fw_draft) if f}
    # (a saved version is meant to differ from today: not flagged)
    stale = [] if d.frozen else sorted(g for g in d.base if (not g.startswith(fw_prefix) or g in keep)
                   and graph_digest(live, g) != d.base[g])
    out = {"draft": d.name, "program": d.program, "framework": {"today": fw_live, "draft": fw_draft},
           "out_of_date": bool(stale), "stale_graphs": stale,
           **({"note": "the live curriculum changed since this draft was taken: the differences include those "
                       "changes, not only the draft's edits; make the draft again to compare its edits alone"}
              if stale else {}),
           "summary": {"today": today.summary, "draft": draft.summary,
                       "changed": sum(r["changed"] for r in rows),
                       "improved": sum(r["changed"] and r["draft"] == "covered" and r["today"] != "covered" for r in rows),
                       "worsened": sum(r["changed"] and r["today"] == "covered" and r["draft"] != "covered" for r in rows)},
           "competencies": rows}
    if role:
        rt = role_readiness(live, ids, d.program, role, stage=stage)
        rd = role_readiness(d.store, ids, d.program, role, stage=stage)
        out["readiness"] = {"today": rt.summary, "draft": rd.summary}
    return out
