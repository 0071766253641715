"""The operations both the API and the CLI offer, over one store (no flask here)."""
from __future__ import annotations

import json
import threading
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
from rdflib import Literal, URIRef

from .config import Config


@dataclass
class Workspace:
    """The store, the IRI minter, the config, and linkers cached per framework."""

    store: Store
    ids: Ids
    config: Config
    _linkers: dict = field(default_factory=dict)
    _encoder: object = None
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
             keep_report: bool = True) -> IngestResult:
        ctx = Context(ids=self.ids, store=self.store, options=dict(options or {}))
        delta = get_loader(loader).load(source, ctx)
        return self._ingest(delta, f"before loading {source.name}" if keep_report else None)

    def _ingest(self, delta, label: str | None) -> IngestResult:
        """Ingest; when the delta replaces a source that reports depend on, the reports as they were
        before are saved (only those that the reload actually changed, and only if it succeeded)."""
        captures = self._capture_reports(delta.graphs, label) if label else []
        res = ingest(self.store, delta)
        self._keep_changed(captures)
        return res

    def _capture_reports(self, graphs, label: str) -> list:
        kinds = tuple(str(self.ids.graph(k, "")) for k in self.REPORTED_KINDS)
        existing = set(self.store.graph_names())
        if not any(str(g) in existing and str(g).startswith(kinds) for g in graphs):
            return []  # a first load, or a source no report depends on
        return [capture(self.store, self.ids, p["id"], p["fw"], label)
                for p in self.store.select("programs") if p["fw"]]

    def _keep_changed(self, captures) -> None:
        keep = {c.graph_name: c.graph for c in captures if c.changed(self.store, self.ids)}
        if keep:
            self.store.replace_graphs(keep)

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
        # One report snapshot for the whole manifest, kept only if the reload changed something.
        captures = self._capture_reports(self.store.graph_names(), f"before loading {path.name}")
        for entry in entries:
            res = self.load(entry["loader"], Source.from_path(path.parent / entry["path"]), entry.get("options"),
                            keep_report=False)
            out.append({"path": entry["path"], "loader": entry["loader"], **res.to_dict()})
        self._keep_changed(captures)
        return out

    # Alignment ---------------------------------------------------------------------------
    def linker(self, framework: str):
        """A linker over the framework's competencies (curriculum profile), rebuilt when they change."""
        from ontology.alignment.encoder import load_minilm
        from ontology.alignment.engine import CURRICULUM, Linker

        with self._lock:
            comps = competency_texts(self.store, framework)
            sig = (framework, tuple((c.uri, c.label, c.alt_labels, c.description) for c in comps))
            cached = self._linkers.get(framework)
            if cached is None or cached[0] != sig:
                cache_dir = Path(self.config.CACHE_DIR) / "embeddings"
                # Stock MiniLM, not the ESCO-tuned model `gapmap link` prefers: on curriculum objectives
                # against framework definitions it is far better (PCRS R@5 41 vs 23, bench/EXPERIMENTS.md).
                if self._encoder is None:
                    self._encoder = load_minilm(cache_dir=cache_dir)
                self._linkers[framework] = (sig, Linker(comps, config=CURRICULUM, encoder=self._encoder))
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
        course's syllabus (replacing the previous version's objectives), and align them."""
        from loaders.syllabus import extract
        from loaders.syllabus_graph import syllabus_delta
        from ontology.review import _check_user

        user = _check_user(user)
        rows = [r for r in self.store.select("course_detail", code=Literal(course_code))]
        course = URIRef(rows[0]["course"]) if rows else None
        if rows and rows[0]["pid"] != program:
            raise LoadError(f"course {course_code!r} belongs to program {rows[0]['pid']!r}", column="course")
        if course is None:
            if not any(r["id"] == program for r in self.store.select("programs")):
                raise NotFound(f"program {program!r} is not loaded", field="program")
            if year is None:
                raise LoadError(f"course {course_code!r} is new: give its year to create it", column="year")
        extracted = extract(data, filename, media_type, max_bytes=self.config.MAX_UPLOAD_BYTES)
        versions = self.store.select("course_syllabi", course=self.ids.course(course_code)) if course else []
        version = (max(int(v["version"]) for v in versions) + 1) if versions else 1
        ctx = Context(ids=self.ids, store=self.store)
        delta = syllabus_delta(ctx, extracted, program=program, course_code=course_code, course=course,
                               version=version, filename=filename, user=user, year=year, title=title)
        res = self._ingest(delta, f"before uploading {filename} for {course_code}")
        out = {"program": program, "course": course_code, "version": version, "file": filename,
               "extraction": extracted.to_dict(), "stored": res.to_dict(),
               "objective_ids": sorted(n for n in (str(o) for o in delta.origin))}
        if align and extracted.objectives:
            out["alignment"] = self.align(program).to_dict()
        return out

    def program_framework(self, program: str) -> str:
        for r in self.store.select("programs"):
            if r["id"] == program:
                if not r["fw"]:
                    raise NotFound(f"program {program!r} names no framework; give one", field="framework")
                return r["fw"]
        raise NotFound(f"program {program!r} is not loaded", field="program")
