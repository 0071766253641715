"""The operations both the API and the CLI offer, over one store (no flask here).

Integrity (every write path and its concurrency rule; the lock is the store's re-entrant write
lock, ``store.locked()``, one per process; another process cannot open an on-disk store that is
open, see ``StoreLocked``):

- **load** (any loader, and each manifest entry): parse, SHACL-validate and write while holding the
  lock.  The gap reports saved "before" a reload are written *in the same transaction* as the
  reloaded graphs (one ``replace_graphs``), then, still under the lock, a saved report the reload
  did not change is dropped again.  A crash leaves the old source and no report, or the new source
  with its report (at worst an unchanged report, never a change without its report).
- **align**: ranking runs without the lock; decisions, objectives and suggestions are re-read and
  merged under it and the suggestions graph is replaced in one transaction (``ontology.align``).
- **upload a syllabus**: extraction runs without the lock; the version number is allocated, the
  course kept (also when the previous version created it), the new version written together with
  its entry in the course's upload history and the "before" reports, all under the lock.
- **decide / bulk accept / add manual / assessed-by** (``ontology.review``): read the current status
  and write the decision under the lock; ``expected`` status / ``If-Match`` ETag → 409 on conflict.
- **accept the shown suggestions, curriculum edits, crosswalk decisions**: the read (current status, value
  or mapping) and the write happen under the lock (:meth:`Workspace.accept_shown`, :meth:`edit_course`,
  :meth:`edit_objective_level`, :meth:`decide_mapping`).

- **CV evidence, kept plans and matchings**: a CV is added in one transaction; a CV decision reads the
  suggestion's status and writes the decision under the lock; a plan or a matching replaces its own graph.

Views and the CLI write only through the methods here (drafts through their ``Drafts`` object); they read
through ``ontology.read``.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path

from loaders import Context, Source
from loaders import get as get_loader
from ontology.align import AlignResult, align_program, competency_texts
from ontology.changes import capture
from ontology.errors import LoadError, NotFound
from ontology.ids import Ids
from ontology.ingest import IngestResult, ingest
from ontology import review
from ontology.read import catalog
from ontology.read import review as read_review
from ontology.review import Decision, ReviewError
from ontology.store import Store, open_store
from rdflib import Graph, URIRef

from .config import Config


def _stamp() -> str:
    """Now, in UTC, to the second (the PROV time of kept plans and matchings)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Workspace:
    """The store, the IRI minter, the config, and linkers cached per framework."""

    store: Store
    ids: Ids
    config: Config
    _linkers: dict = field(default_factory=dict)
    _encoders: dict = field(default_factory=dict)
    #: guards the workspace's own lazily built parts (linkers, jobs, the app's drafts): not the store's lock
    setup_lock: threading.Lock = field(default_factory=threading.Lock)
    _jobs: object = None
    _drafts: object = None

    @property
    def drafts(self):
        """This institution's drafts and saved versions (``ontology.drafts.Drafts``): on disk beside its live
        store (``<store>-drafts``), in memory when the store is, and with a remote store as files under
        ``var/drafts/<hash of the store URL>`` that every process of the host shares.  One per workspace, so one institution never
        sees, edits or deletes another's (they were one app-wide table once)."""
        if self._drafts is None:
            with self.setup_lock:
                if self._drafts is None:
                    from pathlib import Path

                    from ontology.drafts import Drafts
                    path = self.config.STORE_PATH
                    if path and "://" in path:  # a remote store: files every process of this host reads
                        import hashlib

                        from service.config import var_dir
                        top = Path(self.config.DRAFTS_DIR) if self.config.DRAFTS_DIR else var_dir(self.config) / "drafts"
                        folder = top / hashlib.sha1(path.encode()).hexdigest()[:16]
                        self._drafts = Drafts(folder, shared=True)
                    else:
                        self._drafts = Drafts(Path(path).with_name(Path(path).name + "-drafts") if path else None)
        return self._drafts

    @property
    def jobs(self):
        """Long work with progress (service/jobs.py); in-process thread pool, created on first use."""
        if self._jobs is None:
            with self.setup_lock:
                if self._jobs is None:
                    from .jobs import Jobs, StoreJobStates
                    from .shared import RedisJobStates, redis_client, redis_url
                    # several processes share job state: through Redis (GAPMAP_REDIS), else a remote store
                    url = redis_url(self.config)
                    if url:
                        states = RedisJobStates(redis_client(url), scope=self.ids.base)
                    elif hasattr(self.store, "put_state"):
                        states = StoreJobStates(self.store)
                    else:
                        states = None
                    self._jobs = Jobs(states)
        return self._jobs

    @classmethod
    def from_config(cls, cfg: Config | None = None, store: Store | None = None) -> "Workspace":
        cfg = cfg or Config()
        if store is None:
            store = open_store(cfg.STORE_PATH or None)
            if hasattr(store, "query_url"):  # a remote store: GAPMAP_STORE_TIMEOUT per request
                store.timeout = float(getattr(cfg, "STORE_TIMEOUT", 60.0) or 60.0)
        return cls(store=store, ids=Ids(cfg.BASE), config=cfg)

    # Loading -----------------------------------------------------------------------------
    #: loaders whose sources change what a gap report says; a report is saved before each such reload
    REPORTED_KINDS = ("framework", "curriculum", "assessments", "syllabus")

    def load(self, loader: str, source: Source, options: dict | None = None, *,
             keep_report: bool = True, captures: list | None = None) -> IngestResult:
        with self.store.locked():  # the loader reads the store (e.g. the framework a curriculum names)
            ctx = Context(ids=self.ids, store=self.store, options=dict(options or {}))
            try:
                delta = get_loader(loader).load(source, ctx)
            except LoadError as e:
                raise e.in_file(source.name)
            return self._ingest(delta, f"before loading {source.name}" if keep_report else None,
                                captures=captures)

    def _ingest(self, delta, label: str | None, *, captures: list | None = None) -> IngestResult:
        """Ingest; when the delta replaces a source that reports depend on, the reports as they were
        before are saved in the same transaction (and dropped again if the reload changed nothing).

        ``captures``: reports taken earlier (a manifest's) to write with this delta instead; the caller
        drops those the whole operation did not change.
        """
        with self.store.locked():
            own = captures is None
            if own:
                captures = self._capture_reports(delta.graphs, label) if label else []
            res = ingest(self.store, delta, extra={c.graph_name: c.graph for c in captures})
            if own:
                self._drop_unchanged(captures)
            return res

    def _capture_reports(self, graphs, label: str) -> list:
        kinds = tuple(str(self.ids.graph(k, "")) for k in self.REPORTED_KINDS)
        existing = set(self.store.graph_names())
        if not any(str(g) in existing and str(g).startswith(kinds) for g in graphs):
            return []  # a first load, or a source no report depends on
        return [capture(self.store, self.ids, p.id, p.fw, label) for p in catalog.programs(self.store) if p.fw]

    def _drop_unchanged(self, captures) -> None:
        """Drop the saved reports that the reload did not change (they were written with it)."""
        drop = {c.graph_name: Graph() for c in captures if not c.changed(self.store, self.ids)}
        if drop:
            self.store.replace_graphs(drop)

    def load_manifest(self, path: str | Path) -> list[dict]:
        """Load every entry of a manifest (``data/manifest.json``) in order; idempotent."""
        path = Path(path)
        try:
            entries = json.loads(path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise LoadError(f"cannot read manifest: {e}", file=str(path)) from None
        out = []
        for i, entry in enumerate(entries, start=1):
            for key in ("loader", "path"):
                if key not in entry:
                    raise LoadError(f"entry {i} has no {key!r}", file=str(path), row=i, column=key)
        with self.store.locked():
            # One report snapshot for the whole manifest, written with the first entry, dropped at
            # the end if the reload changed nothing.
            captures = self._capture_reports(self.store.graph_names(), f"before loading {path.name}")
            try:
                for entry in entries:
                    res = self.load(entry["loader"], Source.from_path(path.parent / entry["path"]),
                                    entry.get("options"), keep_report=False, captures=None if out else captures)
                    out.append({"path": entry["path"], "loader": entry["loader"], **res.to_dict()})
            finally:
                if out:
                    self._drop_unchanged(captures)
        return out

    # Alignment ---------------------------------------------------------------------------
    def linker(self, framework: str):
        """A linker over the framework's competencies, rebuilt when they change.

        The representation is chosen from the framework itself, by the same logic as ``gapmap link``
        (``engine.linker_for``): labels + definitions with the stock MiniLM (the curriculum profile) when labels
        are informative, descriptions with mpnet when they are codes ("Patient Care 1.1")."""
        from linking.choice import linker_for
        from linking.engine import catalogue_stats, encoder_for, profile_for

        with self.setup_lock:
            comps = competency_texts(self.store, framework)
            sig = (framework, tuple((c.uri, c.label, c.alt_labels, c.description) for c in comps))
            cached = self._linkers.get(framework)
            if cached is None or cached[0] != sig:
                cache_dir = Path(self.config.CACHE_DIR) / "embeddings"
                # one encoder per kind, shared by every framework's linker (models are large)
                def enc(kind):
                    if kind not in self._encoders:
                        self._encoders[kind] = encoder_for(kind, "curriculum", cache_dir=cache_dir)
                    return self._encoders[kind]

                stats = catalogue_stats(comps)
                if stats.lead == "labels" and stats.with_description >= 0.6:
                    stats = catalogue_stats(comps, encoder=enc("labels"))  # label-description agreement
                lead, _ = profile_for(comps, "curriculum", stats=stats)
                self._linkers[framework] = (sig, linker_for(
                    comps, purpose="curriculum", encoder=enc(lead),
                    minilm=enc("labels") if lead == "descriptions" else None))  # the fused profile's 2nd model
            return self._linkers[framework][1]

    def align(self, program: str, framework: str | None = None, *, top_k: int | None = None,
              min_precision: float | None = None, progress=None) -> AlignResult:
        framework = framework or self.program_framework(program)
        linker = self.linker(framework)
        if progress is not None:  # scale: ranking in chunks, reporting progress (service/jobs.py)
            from .jobs import ProgressLinker
            linker = ProgressLinker(linker, progress)
        return align_program(self.store, self.ids, program, framework, linker,
                             top_k=top_k or self.config.ALIGN_TOP_K,
                             min_precision=self.config.ALIGN_MIN_PRECISION if min_precision is None
                             else min_precision)

    # Syllabi ------------------------------------------------------------------------------
    def upload_syllabus(self, program: str, course_code: str, filename: str, data: bytes, user: str, *,
                        media_type: str | None = None, year: int | None = None, title: str | None = None,
                        align: bool = True) -> dict:
        """Extract objectives from a syllabus document, store them as a new version of the
        course's syllabus (replacing the previous version's objectives), and align them.

        Atomic per course: the version number, the course (kept when an earlier upload created
        it), the new objectives, the upload history entry and the "before" reports are decided
        and written under the store's write lock, in one transaction.  Objectives that did not
        change keep their ids, so the decisions on them are kept.
        """
        user = review.check_user(user)
        loader = get_loader("syllabus")  # loaders/syllabus_graph.py: the same loader as /api/load/syllabus
        ctx = Context(ids=self.ids, store=self.store,
                      options={"program": program, "course": course_code, "year": year, "title": title, "user": user,
                               "media_type": media_type, "max_bytes": self.config.MAX_UPLOAD_BYTES})
        extracted = loader.read(Source(name=filename, data=data), ctx)  # checks the course first
        with self.store.locked():
            delta = loader.delta(extracted, ctx, filename=filename)
            res = self._ingest(delta, f"before uploading {filename} for {course_code}")
        version = delta.summary["version"]
        out = {"program": program, "course": course_code, "version": version, "file": filename,
               "extraction": extracted.to_dict(), "stored": res.to_dict(),
               "objective_ids": sorted(n for n in (str(o) for o in delta.origin))}
        if align and extracted.objectives:
            out["alignment"] = self.align(program).to_dict()
        return out

    def syllabus_history(self, course_code: str) -> list[dict]:
        """Every uploaded version of a course's syllabus, newest first (who, when, which file)."""
        return [u.to_dict() for u in read_review.syllabus_uploads(self.store, self.ids.course(course_code))]

    def program_framework(self, program: str) -> str:
        """The framework ``program`` uses (NotFound: not loaded, or it names none)."""
        return catalog.program_framework(self.store, program)

    # Review decisions (ontology.review: status read and decision written under the store's lock) ----------
    def decide(self, key: str, decision: str, user: str, *, competency: URIRef | None = None,
               note: str | None = None, expected: str | None = None, if_match: str | None = None) -> Decision:
        """Accept, reject or reset alignment ``key``, or ``replace`` it by a manual alignment to ``competency``;
        conditional on ``expected`` (status) / ``if_match`` (ETag): 409 when the alignment changed."""
        a = self.ids.alignment_ref(key)
        if decision == "replace":
            if competency is None:
                raise ReviewError("name the competency that replaces the alignment", field="competency")
            found = read_review.alignment(self.store, a)
            if found is None:
                raise NotFound(f"no alignment {key}", field="alignment")
            return review.add_manual(self.store, self.ids, found.oid, competency, user, note=note, replaces=a,
                                     expected=expected, if_match=if_match)
        return review.decide(self.store, self.ids, a, decision, user, note=note, expected=expected,
                             if_match=if_match)

    def add_alignment(self, objective_id: str, competency: URIRef, user: str, *,
                      note: str | None = None) -> Decision:
        """A reviewer's own (accepted, manual) alignment of an objective to a competency."""
        return review.add_manual(self.store, self.ids, objective_id, competency, user, note=note)

    def mark_assessed(self, objective_id: str, assessment_id: str, user: str) -> Decision:
        """Record that an assessment of the objective's program assesses the objective."""
        return review.mark_assessed(self.store, self.ids, objective_id, assessment_id, user)

    def bulk_accept(self, program: str, min_precision: float, user: str) -> list[Decision]:
        """Accept every suggestion of ``program`` at or above ``min_precision`` (what is suggested now)."""
        return review.bulk_accept(self.store, self.ids, program, min_precision, user)

    def accept_shown(self, program: str, alignments: list[str], min_precision: float, user: str, *,
                     preview: bool = False) -> dict:
        """Accept exactly the listed suggestions still suggested at or above ``min_precision``; read and
        written under the lock, so one decided meanwhile is skipped, never overwritten."""
        from ontology.review_bulk import accept_selected

        self.program_framework(program)  # 404 for an unknown program
        with self.store.locked():
            return accept_selected(self.store, self.ids, program, alignments, min_precision, user, preview=preview)

    # Curriculum edits and crosswalk decisions (read and written under the lock) ----------------------------
    def edit_course(self, program: str, code: str, user: str, *, title=None, year=None) -> dict:
        """A course's title and/or year, with PROV."""
        from ontology.curriculum_edit import set_course

        with self.store.locked():
            return set_course(self.store, self.ids, program, code, user, title=title, year=year)

    def edit_objective_level(self, objective_id: str, level, user: str) -> dict:
        """An objective's target level, with PROV."""
        from ontology.curriculum_edit import set_objective_level

        with self.store.locked():
            return set_objective_level(self.store, self.ids, objective_id, level, user)

    # People's private graphs (CV evidence, plans, mentor matches) ------------------------------------------
    def add_cv(self, pid: str, text: str, framework: str, filename: str, user: str):
        """Suggest competencies from a CV's text and add the CV with its suggestions to the person's ``cv``
        graph (one transaction; earlier CVs and their decisions kept)."""
        from ontology import evidence

        return evidence.add_cv(self.store, self.ids, pid, text, self.linker(framework), framework=framework,
                               filename=filename, user=user)

    def decide_cv(self, pid: str, key: str, decision: str, user: str, *, level: int | None = None) -> dict:
        """Accept (optionally at another level), reject or reset a CV suggestion; status read and decision
        written under the store's lock."""
        from ontology import evidence

        with self.store.locked():
            return evidence.decide(self.store, self.ids, pid, key, decision, user, level=level)

    def keep_plan(self, pid: str, role: str, objective: str, plan, user: str) -> URIRef:
        """Keep a development plan in the person's private plans graph (replacing that role's and objective's)."""
        name = self.ids.graph("plans", f"{pid}.{role}.{objective}")
        self.store.replace_graphs({name: plan.to_graph(self.ids, user, _stamp())})
        return name

    def keep_matches(self, mode: str, result, user: str) -> URIRef:
        """Keep a mentor matching (private ``matches`` graph of the mode)."""
        name = self.ids.graph("matches", mode)
        self.store.replace_graphs({name: result.to_graph(self.ids, user, _stamp())})
        return name

    def run_crosswalk(self, source: str, target: str, *, top_k: int = 3, min_precision: float = 0.0):
        """Map framework ``source`` onto ``target`` (decisions kept)."""
        from ontology.crosswalk import check_framework, run_crosswalk

        check_framework(source, "source")
        check_framework(target, "target")
        return run_crosswalk(self.store, self.ids, source, target, self.linker(target), top_k=top_k,
                             min_precision=min_precision)

    def decide_mapping(self, source: str, target: str, mapping_id: str, decision, user: str, *,
                       relation: str | None = None, note: str | None = None) -> dict:
        """Accept, reject or reset one crosswalk mapping."""
        from ontology.crosswalk import decide

        with self.store.locked():
            return decide(self.store, self.ids, source, target, mapping_id, decision, user, relation=relation,
                          note=note)
