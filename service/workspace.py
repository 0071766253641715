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
"""
from __future__ import annotations

import json
import re
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
from ontology.store import Store, open_store
from ontology.vocab import DCTERMS, GM, PROV, RDF, RDFS
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from .config import Config


#: course codes a syllabus upload may create or name (they become IRIs, file names and page titles)
COURSE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


@dataclass
class Workspace:
    """The store, the IRI minter, the config, and linkers cached per framework."""

    store: Store
    ids: Ids
    config: Config
    _linkers: dict = field(default_factory=dict)
    _encoders: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _jobs: object = None

    @property
    def jobs(self):
        """Long work with progress (service/jobs.py); in-process thread pool, created on first use."""
        if self._jobs is None:
            with self._lock:
                if self._jobs is None:
                    from .jobs import Jobs, StoreJobStates
                    # several processes over a shared (remote) store share job state through it
                    shared = hasattr(self.store, "put_state")
                    self._jobs = Jobs(StoreJobStates(self.store) if shared else None)
        return self._jobs

    @classmethod
    def from_config(cls, cfg: Config | None = None, store: Store | None = None) -> "Workspace":
        cfg = cfg or Config()
        return cls(store=store if store is not None else open_store(cfg.STORE_PATH or None), ids=Ids(cfg.BASE),
                   config=cfg)

    # Loading -----------------------------------------------------------------------------
    #: loaders whose sources change what a gap report says; a report is saved before each such reload
    REPORTED_KINDS = ("framework", "curriculum", "assessments", "syllabus")

    def load(self, loader: str, source: Source, options: dict | None = None, *,
             keep_report: bool = True, captures: list | None = None) -> IngestResult:
        with self.store.locked():  # the loader reads the store (e.g. the framework a curriculum names)
            ctx = Context(ids=self.ids, store=self.store, options=dict(options or {}))
            delta = get_loader(loader).load(source, ctx)
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
        return [capture(self.store, self.ids, p["id"], p["fw"], label)
                for p in self.store.select("programs") if p["fw"]]

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
        from linking.engine import catalogue_stats, encoder_for, linker_for, profile_for

        with self._lock:
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
        from loaders.syllabus import extract
        from ontology.review import _check_user

        user = _check_user(user)
        course = self._course_for_upload(program, course_code, year)  # fail fast, before reading the file
        if course is not None:
            rows = self.store.select("course_detail", code=Literal(course_code))
            if rows and rows[0].get("year"):
                year = int(rows[0]["year"])  # the course's own year sets the objectives' proficiency levels
        extracted = extract(data, filename, media_type, max_bytes=self.config.MAX_UPLOAD_BYTES)
        if not extracted.objectives and self._course_for_upload(program, course_code, year) is None:
            # nothing to teach: do not create an empty course (an existing course keeps its last syllabus)
            raise LoadError(f"no learning objectives were found in {filename}; course {course_code!r} was not created",
                            file=filename)
        with self.store.locked():
            version, delta = self._syllabus_version(program, course_code, extracted, filename, user, year, title)
            res = self._ingest(delta, f"before uploading {filename} for {course_code}")
        out = {"program": program, "course": course_code, "version": version, "file": filename,
               "extraction": extracted.to_dict(), "stored": res.to_dict(),
               "objective_ids": sorted(n for n in (str(o) for o in delta.origin))}
        if align and extracted.objectives:
            out["alignment"] = self.align(program).to_dict()
        return out

    def _course_for_upload(self, program: str, course_code: str, year: int | None) -> URIRef | None:
        """The course's IRI (None: a new course, which needs a year); errors name the field."""
        if not COURSE_CODE.fullmatch(course_code or ""):
            raise LoadError(f"course code {course_code[:60]!r} is not valid: letters, digits, '.', '_' or '-', "
                            "at most 40, starting with a letter or digit", column="course")
        if year is not None and not 1 <= year <= 8:
            raise LoadError("year must be from 1 to 8", column="year")
        rows = self.store.select("course_detail", code=Literal(course_code))
        if rows and rows[0]["pid"] != program:
            raise LoadError(f"course {course_code!r} belongs to program {rows[0]['pid']!r}", column="course")
        if rows:
            return URIRef(rows[0]["course"])
        if not any(r["id"] == program for r in self.store.select("programs")):
            raise NotFound(f"program {program!r} is not loaded", field="program")
        if year is None:
            raise LoadError(f"course {course_code!r} is new: give its year to create it", column="year")
        return None

    def _syllabus_version(self, program, course_code, extracted, filename, user, year, title):
        """The next version's delta (call with the write lock held)."""
        from loaders.syllabus_graph import syllabus_delta

        course = self._course_for_upload(program, course_code, year)
        cid = self.ids.course(course_code)
        history_name = self.ids.graph("uploads", course_code)
        history = self.store.graph(history_name)
        versions = [int(r["version"]) for r in self.store.select("course_syllabi", course=cid)]
        versions += [int(r["version"]) for r in self.store.select("course_uploads", course=cid)]
        version = max(versions, default=0) + 1
        ctx = Context(ids=self.ids, store=self.store)
        delta = syllabus_delta(ctx, extracted, program=program, course_code=course_code, course=course,
                               version=version, filename=filename, user=user, year=year, title=title)
        syllabus_name = self.ids.graph("syllabus", course_code)
        if course is not None:
            # A course that an earlier upload created lives in the syllabus graph being replaced: keep it.
            previous = self.store.graph(syllabus_name)
            if (course, RDF.type, GM.Course) in previous:
                g = delta.graph(syllabus_name)
                for t in previous.triples((course, None, None)):
                    g.add(t)
        # Every version stays listed in the course's upload history (the syllabus graph holds the current one).
        entry = self.ids.activity(f"upload-{course_code}-{version}")
        agent = self.ids.agent(user)
        history.add((entry, RDF.type, PROV.Activity))
        history.add((entry, PROV.generated, self.ids.syllabus(course_code, str(version))))
        history.add((entry, DCTERMS.subject, cid))
        history.add((entry, DCTERMS.hasVersion, Literal(version, datatype=XSD.integer)))
        history.add((entry, DCTERMS.source, Literal(filename)))
        history.add((entry, PROV.endedAtTime, Literal(datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                                                      datatype=XSD.dateTime)))
        history.add((entry, PROV.wasAssociatedWith, agent))
        history.add((entry, RDFS.comment, Literal(f"{delta.summary.get('objectives', 0)} objectives")))
        history.add((agent, RDF.type, PROV.Person))
        history.add((agent, RDFS.label, Literal(user)))
        delta.graphs[history_name] = history
        return version, delta

    def syllabus_history(self, course_code: str) -> list[dict]:
        """Every uploaded version of a course's syllabus, newest first (who, when, which file)."""
        return [{"version": r["version"], "file": r["file"], "at": str(r["at"]) if r["at"] else None,
                 "user": r["user"], "note": r["note"]}
                for r in self.store.select("course_uploads", course=self.ids.course(course_code))]

    def program_framework(self, program: str) -> str:
        for r in self.store.select("programs"):
            if r["id"] == program:
                if not r["fw"]:
                    raise NotFound(f"program {program!r} names no framework; give one", field="framework")
                return r["fw"]
        raise NotFound(f"program {program!r} is not loaded", field="program")
