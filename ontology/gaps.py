"""Gap reports and role readiness, computed from the named queries.

A competency is *taught* by a program when an accepted alignment (curator, manual or a
reviewed suggestion) ties one of its objectives to it; optionally, unreviewed suggestions
at or above a calibrated precision count too, and are labelled so.  It is *assessed* when an
assessment of the program assesses it directly or assesses an objective aligned to it.
"""
from __future__ import annotations

import io
import threading
import weakref
from collections import OrderedDict, defaultdict
from dataclasses import asdict, dataclass

import pandas as pd
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from .errors import GapmapError, NotFound
from .store import Store
from .vocab import ACCEPTED, GAP_STATUSES, GM, PROV, RDF, SKOS, STAGES, SUGGESTED, new_graph

class BadStage(GapmapError):
    status = 400
    title = "Bad parameter"


_ACCEPTED, _SUGGESTED = str(ACCEPTED), str(SUGGESTED)
STATUS_ORDER = ["not_taught", "assessed_not_taught", "taught_not_assessed", "below_required_level", "covered"]


@dataclass(frozen=True)
class Teaching:
    objective: str
    objective_id: str
    course: str
    year: int
    level: int | None
    score: float | None
    method: str
    reviewed: bool  # False: an unreviewed suggestion counted because of include_suggestions


@dataclass(frozen=True)
class Assessing:
    assessment: str
    assessment_id: str
    title: str
    course: str
    year: int
    level: int | None
    via: str  # "direct" or "objective"


@dataclass(frozen=True)
class GapEntry:
    competency: str
    notation: str
    label: str
    domain: str | None
    domain_label: str | None
    status: str
    taught_by: tuple[Teaching, ...]
    assessed_by: tuple[Assessing, ...]
    level_reached: int | None
    required_level: int | None
    relation: str | None  # essential / optional when a role is given and requires it

    @property
    def courses(self) -> tuple[str, ...]:
        return tuple(sorted({t.course for t in self.taught_by}))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["courses"] = list(self.courses)
        return d


@dataclass(frozen=True)
class DomainSummary:
    domain: str | None
    label: str | None
    competencies: int
    counts: dict
    taught_pct: float
    assessed_pct: float
    covered_pct: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GapReport:
    program: str
    framework: str
    year: int | None
    course: str | None
    role: str | None
    include_suggestions: float | None
    entries: tuple[GapEntry, ...]
    summary: dict
    domains: tuple[DomainSummary, ...]
    #: the role stage the required levels are taken at (None: the role's full levels)
    stage: str | None = "graduation"
    #: the framework the program is aligned to, when the report goes through a crosswalk
    via: str | None = None

    def by_status(self, status: str) -> list[str]:
        return sorted(e.notation for e in self.entries if e.status == status)

    @property
    def basis(self) -> dict:
        """What the counts and percentages are over: always every competency of the framework; with a
        role, the role's required competencies are the subset whose levels are checked."""
        n = len(self.entries)
        required = sum(1 for e in self.entries if e.required_level is not None) if self.role else None
        note = f"counts are over all {n} competencies of framework {self.framework}"
        if self.role:
            note += (f"; role {self.role} requires {required} of them (at stage {self.stage or 'all'}), whose "
                     "required levels are checked (below_required_level)")
        return {"scope": "framework", "competencies": n, "role_required": required, "note": note}

    def to_dict(self) -> dict:
        return {"program": self.program, "framework": self.framework,
                "filters": {"year": self.year, "course": self.course, "role": self.role,
                            "include_suggestions": self.include_suggestions, "stage": self.stage,
                            "via": self.via},
                "basis": self.basis,
                "summary": self.summary, "domains": [d.to_dict() for d in self.domains],
                "competencies": [e.to_dict() for e in self.entries]}

    def to_frame(self) -> pd.DataFrame:
        rows = [{"domain": e.domain, "domain_label": e.domain_label, "competency": e.notation, "label": e.label,
                 "status": e.status, "taught_in": ";".join(e.courses),
                 "objectives": ";".join(t.objective_id for t in e.taught_by),
                 "assessed_by": ";".join(a.assessment_id for a in e.assessed_by),
                 "level_reached": e.level_reached, "required_level": e.required_level, "relation": e.relation}
                for e in self.entries]
        return pd.DataFrame(rows).astype({"level_reached": "Int64", "required_level": "Int64"})

    def to_csv(self) -> str:
        """The report as CSV; text cells that a spreadsheet would evaluate are neutralised."""
        from .csvsafe import safe_frame
        buf = io.StringIO()
        safe_frame(self.to_frame()).to_csv(buf, index=False)
        return buf.getvalue()

    def to_graph(self, ids, when: str | None = None, iri: URIRef | None = None) -> Graph:
        """The report as RDF (gm:GapReport with one gm:GapEntry per competency)."""
        g = new_graph()
        key = "-".join(str(p) for p in (self.program, self.framework, self.year, self.course, self.role) if p)
        report = iri or ids.activity(f"report-{key}")
        g.add((report, RDF.type, GM.GapReport))
        g.add((report, GM.reportFor, ids.program(self.program)))
        g.add((report, GM.againstFramework, ids.framework(self.framework)))
        if self.role:
            g.add((report, GM.againstRole, ids.role(self.role)))
        if when:
            g.add((report, PROV.generatedAtTime, Literal(when, datatype=XSD.dateTime)))
        for e in self.entries:
            entry = URIRef(f"{report}#{e.notation}")
            g.add((report, GM.hasEntry, entry))
            g.add((entry, RDF.type, GM.GapEntry))
            g.add((entry, GM.entryCompetency, URIRef(e.competency)))
            g.add((entry, GM.gapStatus, GAP_STATUSES[e.status]))
            g.add((entry, SKOS.notation, Literal(e.notation)))
            if e.level_reached is not None:
                g.add((entry, GM.levelReached, Literal(e.level_reached, datatype=XSD.integer)))
            if e.required_level is not None:
                g.add((entry, GM.requiredLevel, Literal(e.required_level, datatype=XSD.integer)))
            for t in e.taught_by:
                g.add((entry, GM.taughtBy, URIRef(t.objective)))
            for a in e.assessed_by:
                g.add((entry, GM.assessedBy, URIRef(a.assessment)))
        return g


def assessing_rows(store: Store, pid) -> list[dict]:
    """Every (competency, assessment) pair of a program, ``via`` "direct" or "objective".

    The same rows as ``program_assessing.rq``, from two flat queries anchored on the program
    (that query's UNION makes Oxigraph evaluate the objective branch over the whole store).
    """
    rows = [dict(r, via="direct") for r in store.select("program_assessing_direct", program=pid)]
    rows += [dict(r, via="objective") for r in store.select("program_assessing_objective", program=pid)]
    return rows


class ReportCache:
    """Computed results keyed on (store generation, arguments), least recently used first out.

    Every write bumps the store's generation, so an entry computed before a write is never served
    after it: the key it was stored under no longer matches.  A report computed while a write
    lands is stored under the generation read *before* computing, so it is never served as newer
    than it is.  Thread-safe; two threads missing the same key both compute (no lock held while
    computing), which is harmless.

    With ``patch``, a miss first tries to bring the newest entry of the same arguments at an older
    generation up to date: ``patch(value, changes)`` with the store's journal of the writes in between
    (:meth:`Store.changes_between`); when the store does not know them exactly, or ``patch`` answers
    None, the value is computed.  An entry always reflects at least every write up to the generation it
    is filed under (it may reflect later ones: its rows were read after that generation was), so
    patching it with those writes' changes gives one that reflects every write up to the new one.
    """

    def __init__(self, size: int = 256):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = self.patched = 0

    def get_or_compute(self, store, key: tuple, compute, generation=None, patch=None):
        """``compute()``'s value for ``key`` at the store's generation (``generation``: one the caller
        read before reading anything for this value, saving a read of a remote store's token)."""
        gen = store_generation(store) if generation is None else generation
        full = (gen,) + key
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                self.hits += 1
                return self._items[full]
            self.misses += 1
            older = self._older(key, gen) if patch is not None else None
        value = None
        if older is not None:
            changes = store.changes_between(older[0], gen)
            if changes is not None:
                value = patch(older[1], changes)
        if value is None:
            value = compute()
        else:
            with self._lock:
                self.patched += 1
        with self._lock:
            self._items[full] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def _older(self, key: tuple, gen) -> tuple | None:
        """(generation, value) of the entry of ``key`` to patch: the newest older generation of an
        embedded store (a counter), the most recently used one otherwise (tokens have no order)."""
        found = [(k[0], v) for k, v in reversed(self._items.items()) if k[1:] == key and k[0] != gen]
        if found and all(isinstance(g, int) for g, _ in found) and isinstance(gen, int):
            found = sorted((x for x in found if x[0] < gen), key=lambda x: x[0], reverse=True)
        return found[0] if found else None

    def clear(self):
        with self._lock:
            self._items.clear()


_caches: "weakref.WeakKeyDictionary[Store, ReportCache]" = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def store_generation(store) -> object:
    """The store's write generation (a counter for the embedded store; read from the server for a
    remote one, so several processes agree)."""
    return store.generation


def report_cache(store: Store) -> ReportCache:
    """The cache of results over ``store`` (one per store object)."""
    with _caches_lock:
        c = _caches.get(store)
        if c is None:
            c = _caches[store] = ReportCache()
        return c


_index_caches: "weakref.WeakKeyDictionary[Store, ReportCache]" = weakref.WeakKeyDictionary()
#: program indexes and cached selects kept per store: an index of a 3,530-objective program holds ~3.3k rows
#: (5.5 MiB measured; 15.5 MiB with every suggestion), so fewer of them than reports
INDEX_CACHE_SIZE = 24


def index_cache(store: Store) -> ReportCache:
    """The cache of :func:`program_index` / :func:`cached_select` rows over ``store`` (same keys and
    invalidation as :func:`report_cache`, smaller)."""
    with _caches_lock:
        c = _index_caches.get(store)
        if c is None:
            c = _index_caches[store] = ReportCache(size=INDEX_CACHE_SIZE)
        return c


def cached_gap_report(store: Store, ids, program: str, framework: str, *, year: int | None = None,
                      course: str | None = None, role: str | None = None,
                      include_suggestions: float | None = None, stage: str | None = "graduation") -> GapReport:
    """:func:`gap_report`, served from :func:`report_cache` while the store has not changed."""
    key = ("gap_report", ids.base, program, framework, year, course, role, include_suggestions, stage)
    return report_cache(store).get_or_compute(store, key, lambda: gap_report(
        store, ids, program, framework, year=year, course=course, role=role,
        include_suggestions=include_suggestions, stage=stage))


@dataclass(frozen=True)
class ProgramIndex:
    """A program's report inputs, read once per store generation and shared by every report on it.

    ``teaching``: the rows of ``program_teaching`` (accepted alignments only, or every alignment);
    ``assessing_direct`` / ``assessing_objective``: the rows of :func:`assessing_rows`' two queries in their
    index form (``program_index_assessing_*``: every pattern subject projected, no DISTINCT; ``via`` added).
    Every report of the program (any framework, year, course, role, stage) filters these rows in Python
    instead of asking the store again: on disk each row of those joins costs several index look-ups
    (~0.5 s for a 3,530-objective program), the filtering a few milliseconds.  After a write the index is
    patched from the store's journal (:func:`ontology.journal.patch_rows`: only the rows of the changed
    alignments, objectives, assessments or courses are read again), so rows are in no particular order.
    Rows are shared: treat them as read-only.
    """
    program: str
    teaching: tuple
    assessing_direct: tuple
    assessing_objective: tuple
    has_objectives: bool

    @property
    def assessing(self) -> tuple:
        """Every (competency, assessment) row, direct ones first (as :func:`assessing_rows`)."""
        return self.assessing_direct + self.assessing_objective


def _carry(name: str):
    """A ``patch`` for :meth:`ReportCache.get_or_compute` that keeps rows the writes cannot have changed."""
    from .journal import unaffected
    return lambda rows, changes: rows if unaffected(name, changes) else None


def cached_select(store: Store, name: str, *, generation=None, **bindings) -> tuple:
    """``store.select(name, **bindings)`` as a tuple, kept in :func:`index_cache` for the store's current
    generation (so a write is seen by the next call; rows a write cannot have changed, by the store's
    journal, are kept).  Rows are shared: treat them as read-only."""
    key = ("select", name) + tuple(sorted((k, str(v), type(v).__name__) for k, v in bindings.items()))
    return index_cache(store).get_or_compute(store, key, lambda: tuple(store.select(name, **bindings)),
                                             generation, patch=_carry(name))


_INDEX_QUERIES = (("teaching", "program_teaching", None), ("assessing_direct", "program_index_assessing_direct",
                  "direct"), ("assessing_objective", "program_index_assessing_objective", "objective"))


def program_index(store: Store, ids, program: str, *, accepted_only: bool = True,
                  generation=None) -> ProgramIndex:
    """The :class:`ProgramIndex` of ``program`` for the store's current generation.

    Keyed like every entry of :func:`report_cache`: on (store generation, arguments), the generation
    read *before* the rows are, so rows read while a write lands are filed under the older generation
    and never served after it.  After a write whose changes the store's journal knows (a review
    decision, an added alignment, a marked assessment, a curriculum edit: :meth:`Store.changes_between`),
    the index of the previous generation is patched rather than read again; after any other write
    (a load, a replaced or dropped graph), or another process's write on a shared store, it is read
    again.  Every process computes its own from the shared store.
    """
    from .journal import patch_rows, unaffected

    pid = ids.program(program)

    def bindings(name):  # only the teaching query takes a status (None: every alignment)
        return {"program": pid, "status": ACCEPTED if accepted_only else None} if name == "program_teaching" \
            else {"program": pid}

    def read(name, via):
        return tuple(dict(r, via=via) if via else r for r in store.select(name, **bindings(name)))

    def compute():
        parts = {field: read(name, via) for field, name, via in _INDEX_QUERIES}
        return ProgramIndex(program=program, **parts,
                            has_objectives=bool(store.select("program_has_objectives", program=pid)))

    def patch(old: ProgramIndex, changes):
        parts = {}
        for field, name, via in _INDEX_QUERIES:
            rows = patch_rows(store, name, bindings(name), getattr(old, field), changes,
                              extra={"via": via} if via else None)
            if rows is None:
                return None
            parts[field] = rows
        has = old.has_objectives if unaffected("program_has_objectives", changes) else \
            bool(store.select("program_has_objectives", program=pid))
        return ProgramIndex(program=program, **parts, has_objectives=has)
    return index_cache(store).get_or_compute(store, ("program_index", ids.base, program, accepted_only), compute,
                                             generation, patch=patch)


def framework_index(store: Store, framework: str, *, generation=None) -> tuple:
    """The rows of ``framework_competencies`` for ``framework`` (cached per store generation)."""
    return cached_select(store, "framework_competencies", fw=Literal(framework), generation=generation)


def gap_status(taught: bool, assessed: bool, reached: int | None, required: int | None) -> str:
    if not taught and not assessed:
        return "not_taught"
    if not taught:
        return "assessed_not_taught"
    if not assessed:
        return "taught_not_assessed"
    if required is not None and (reached or 0) < required:
        return "below_required_level"
    return "covered"


def pct(n: int, d: int) -> float:
    return round(100.0 * n / d, 1) if d else 0.0


def requirements_at(reqs: list[dict], stage: str | None) -> list[dict]:
    """The role requirements that apply at ``stage`` (a key of ``vocab.STAGES``).

    A requirement with no stage applies at every stage; one with a stage only at that stage.  With
    ``stage=None`` every requirement counts and, for a competency required at several stages, the
    highest level wins (the role's full expectation)."""
    if stage is not None and stage not in STAGES:
        raise BadStage(f"stage must be one of {', '.join(STAGES)}", field="stage")
    want = str(STAGES[stage]) if stage else None
    out: dict[str, dict] = {}
    for r in reqs:
        if want and r.get("stage") and r["stage"] != want:
            continue
        prev = out.get(r["comp"])
        if want:  # at a stage: that stage's own row beats a stageless one
            better = prev is None or (r.get("stage") == want and prev.get("stage") != want)
        else:  # the role's full expectation: the highest level at any stage
            better = prev is None or int(r["level"]) > int(prev["level"])
        if better:
            out[r["comp"]] = r
    return [r for r in reqs if out.get(r["comp"]) is r]


def _nk(v):
    """A sort key for an optional number (None first)."""
    return (v is not None, v or 0)


def _teaching_order(x: Teaching) -> tuple:
    return (x.year, x.course, x.objective_id, x.objective, x.method, x.reviewed, _nk(x.level), _nk(x.score))


def _assessing_order(x: Assessing) -> tuple:
    return (x.via == "objective", x.year, x.course, x.title, _nk(x.level), x.assessment)


def gap_report(store: Store, ids, program: str, framework: str, *, year: int | None = None,
               course: str | None = None, role: str | None = None,
               include_suggestions: float | None = None, stage: str | None = "graduation",
               use_index: bool = True) -> GapReport:
    """The gap report of ``program`` against ``framework``.

    ``year``/``course`` restrict what counts as teaching and assessing; ``role`` adds the
    role's required levels at ``stage`` (default graduation: what a program's graduates should have;
    None: the role's full levels); ``include_suggestions`` (a calibrated precision, 0..1) also counts
    unreviewed suggestions at or above it.  ``use_index=False`` reads every row from the store
    (the same report; the index is :func:`program_index`, tests compare the two).
    """
    gen = store_generation(store) if use_index else None  # read once, before any row
    comps = framework_index(store, framework, generation=gen) if use_index else \
        store.select("framework_competencies", fw=Literal(framework))
    if not comps:
        raise NotFound(f"framework {framework!r} is not loaded", field="framework")
    idx = program_index(store, ids, program, accepted_only=include_suggestions is None,
                        generation=gen) if use_index else None
    pid = ids.program(program)
    # Without include_suggestions only accepted alignments count: ask only for those (a program's
    # suggestions usually outnumber its accepted alignments several times).
    teaching_rows = idx.teaching if idx else store.select(
        "program_teaching", program=pid, status=ACCEPTED if include_suggestions is None else None)
    if not teaching_rows and not (idx.has_objectives if idx else store.select("program_objectives", program=pid)):
        raise NotFound(f"program {program!r} is not loaded", field="program")
    if course is not None:
        courses = (cached_select(store, "program_courses", pid=Literal(program), generation=gen) if use_index
                   else store.select("program_courses", pid=Literal(program)))
        if not any(r["code"] == course for r in courses):
            raise NotFound(f"course {course!r} is not in program {program!r}", field="course")
    required: dict[str, tuple[int, str]] = {}
    if role:
        reqs = store.select("role_requirements", rid=Literal(role))
        if not reqs and not any(r["id"] == role for r in store.select("roles")):
            raise NotFound(f"role {role!r} is not loaded", field="role")
        reqs = requirements_at(reqs, stage)
        required = {r["comp"]: (int(r["level"]), str(r["relation"]).rsplit("#", 1)[-1].lower()) for r in reqs}

    def keep(code, yr):
        return (year is None or int(yr) == year) and (course is None or code == course)

    taught = defaultdict(list)
    for r in teaching_rows:
        if not keep(r["code"], r["year"]):
            continue
        status = r["status"]  # an IRI as str: compared as text (no rdflib term per row)
        reviewed = status == _ACCEPTED
        if not reviewed and not (status == _SUGGESTED and include_suggestions is not None
                                 and (r["precision"] or 0) >= include_suggestions):
            continue
        taught[r["comp"]].append(Teaching(
            objective=r["objective"], objective_id=r["oid"], course=r["code"], year=int(r["year"]),
            level=r["level"], score=float(r["score"]) if r["score"] is not None else None,
            method=str(r["method"]).rsplit("#", 1)[-1], reviewed=reviewed))
    assessed = defaultdict(list)
    for r in (idx.assessing if idx else assessing_rows(store, pid)):
        if keep(r["code"], r["year"]):
            assessed[r["comp"]].append(Assessing(
                assessment=r["assessment"], assessment_id=r["aid"], title=r["title"], course=r["code"],
                year=int(r["year"]), level=r["level"], via=r["via"]))

    entries = []
    for c in comps:
        # Total orders, so the report does not depend on the order rows come in (a patched index has
        # its own): teaching by place then every field; one row per assessment, the "objective" one over
        # the "direct" one, then the largest by every field (several differ only in malformed data).
        t = tuple(sorted(taught.get(c["comp"], ()), key=_teaching_order))
        one: dict[str, Assessing] = {}
        for x in assessed.get(c["comp"], ()):
            if x.assessment_id not in one or _assessing_order(x) > _assessing_order(one[x.assessment_id]):
                one[x.assessment_id] = x
        a = tuple(sorted(one.values(), key=lambda x: (x.year, x.course, x.assessment_id)))
        levels = [x.level for x in t if x.level is not None] + [x.level for x in a if x.level is not None]
        reached = max(levels) if levels else None
        req, rel = required.get(c["comp"], (None, None))
        entries.append(GapEntry(
            competency=c["comp"], notation=c["notation"], label=c["label"], domain=c["domainNotation"],
            domain_label=c["domainLabel"], status=gap_status(bool(t), bool(a), reached, req), taught_by=t,
            assessed_by=a, level_reached=reached, required_level=req, relation=rel))

    counts = {s: sum(1 for e in entries if e.status == s) for s in STATUS_ORDER}
    n = len(entries)
    is_taught = lambda e: bool(e.taught_by)  # noqa: E731
    is_assessed = lambda e: bool(e.assessed_by)  # noqa: E731
    summary = {"competencies": n, "counts": counts,
               "taught_pct": pct(sum(map(is_taught, entries)), n),
               "assessed_pct": pct(sum(map(is_assessed, entries)), n),
               "covered_pct": pct(counts["covered"], n)}
    if role:
        summary["role_required"] = len(required)
    by_domain = defaultdict(list)
    for e in entries:
        by_domain[(e.domain, e.domain_label)].append(e)
    domains = tuple(DomainSummary(
        domain=d, label=lbl, competencies=len(es),
        counts={s: sum(1 for e in es if e.status == s) for s in STATUS_ORDER},
        taught_pct=pct(sum(map(is_taught, es)), len(es)), assessed_pct=pct(sum(map(is_assessed, es)), len(es)),
        covered_pct=pct(sum(1 for e in es if e.status == "covered"), len(es)))
        for (d, lbl), es in sorted(by_domain.items(), key=lambda kv: kv[0][0] or ""))
    return GapReport(program=program, framework=framework, year=year, course=course, role=role,
                     include_suggestions=include_suggestions, entries=tuple(entries), summary=summary,
                     domains=domains, stage=stage)


@dataclass(frozen=True)
class ReadinessItem:
    competency: str
    notation: str
    label: str
    relation: str
    required_level: int
    level_reached: int | None
    status: str  # "ready", "below_level", "gap"
    gap_status: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RoleReadiness:
    role: str
    title: str
    program: str
    items: tuple[ReadinessItem, ...]
    summary: dict
    stage: str | None = None

    @property
    def applicable(self) -> bool:
        """Whether the role requires anything at this stage (else no readiness figure means anything)."""
        return bool(self.items)

    def to_dict(self) -> dict:
        return {"role": self.role, "title": self.title, "program": self.program, "stage": self.stage,
                "applicable": self.applicable,
                "note": None if self.applicable else NO_REQUIREMENTS_NOTE.format(stage=self.stage or "any stage"),
                "summary": self.summary,
                "requirements": [i.to_dict() for i in self.items]}


#: the note of a readiness whose role requires nothing at the stage asked for
NO_REQUIREMENTS_NOTE = "no requirements at this stage ({stage}): readiness does not apply"


def role_readiness(store: Store, ids, program: str, role: str, framework: str | None = None,
                   include_suggestions: float | None = None, stage: str | None = "graduation") -> RoleReadiness:
    """Which of a role's essential and optional competencies the program covers, and which are gaps.

    A program is judged against the levels the role expects at ``stage`` (default: graduation)."""
    reqs = store.select("role_requirements", rid=Literal(role))
    if not reqs:
        raise NotFound(f"role {role!r} is not loaded or has no requirements", field="role")
    title = reqs[0]["title"]
    reqs = requirements_at(reqs, stage)
    # Requirements may span frameworks (e.g. our own and ESCO): one report per framework.
    fws = [framework] if framework else sorted({r["fw"] for r in reqs})
    entries = {}
    for fw in fws:
        rep = cached_gap_report(store, ids, program, fw, role=role, include_suggestions=include_suggestions,
                                stage=stage)
        entries.update({e.competency: e for e in rep.entries})
    items = []
    for r in reqs:
        e = entries.get(r["comp"])
        reached = e.level_reached if e else None
        taught = bool(e and e.taught_by)
        level = int(r["level"])
        status = "gap" if not taught else ("below_level" if (reached or 0) < level else "ready")
        items.append(ReadinessItem(competency=r["comp"], notation=r["notation"], label=r["label"],
                                   relation=str(r["relation"]).rsplit("#", 1)[-1].lower(), required_level=level,
                                   level_reached=reached, status=status,
                                   gap_status=e.status if e else "not_taught"))
    def share(rel):
        sel = [i for i in items if i.relation == rel]
        return {"required": len(sel), "ready": sum(i.status == "ready" for i in sel),
                "below_level": sum(i.status == "below_level" for i in sel),
                "gap": sum(i.status == "gap" for i in sel),
                # none required: not applicable (null), never a misleading 0.0 %
                "ready_pct": pct(sum(i.status == "ready" for i in sel), len(sel)) if sel else None}
    return RoleReadiness(role=role, title=title, program=program, items=tuple(items),
                         summary={"essential": share("essential"), "optional": share("optional")}, stage=stage)
