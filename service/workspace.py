"""The operations both the API and the CLI offer, over one store (no flask here)."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from loaders import Context, Source
from loaders import get as get_loader
from ontology.align import AlignResult, align_program, competency_texts
from ontology.errors import LoadError, NotFound
from ontology.ids import Ids
from ontology.ingest import IngestResult, ingest
from ontology.store import Store, open_store

from .config import Config


@dataclass
class Workspace:
    """The store, the IRI minter, the config, and linkers cached per framework."""

    store: Store
    ids: Ids
    config: Config
    _linkers: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_config(cls, cfg: Config | None = None, store: Store | None = None) -> "Workspace":
        cfg = cfg or Config()
        return cls(store=store or open_store(cfg.STORE_PATH or None), ids=Ids(cfg.BASE), config=cfg)

    # Loading -----------------------------------------------------------------------------
    def load(self, loader: str, source: Source, options: dict | None = None) -> IngestResult:
        ctx = Context(ids=self.ids, store=self.store, options=dict(options or {}))
        delta = get_loader(loader).load(source, ctx)
        return ingest(self.store, delta)

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
            res = self.load(entry["loader"], Source.from_path(path.parent / entry["path"]), entry.get("options"))
            out.append({"path": entry["path"], "loader": entry["loader"], **res.to_dict()})
        return out

    # Alignment ---------------------------------------------------------------------------
    def linker(self, framework: str):
        """A linker over the framework's competencies, built once per framework and store generation."""
        from ontology.alignment.engine import Linker

        with self._lock:
            comps = competency_texts(self.store, framework)
            sig = (framework, tuple((c.uri, c.label, c.alt_labels, c.description) for c in comps))
            cached = self._linkers.get(framework)
            if cached is None or cached[0] != sig:
                cache_dir = Path(self.config.CACHE_DIR) / "embeddings"
                self._linkers[framework] = (sig, Linker(comps, cache_dir=cache_dir))
            return self._linkers[framework][1]

    def align(self, program: str, framework: str | None = None, *, top_k: int | None = None,
              min_precision: float | None = None) -> AlignResult:
        framework = framework or self.program_framework(program)
        return align_program(self.store, self.ids, program, framework, self.linker(framework),
                             top_k=top_k or self.config.ALIGN_TOP_K,
                             min_precision=self.config.ALIGN_MIN_PRECISION if min_precision is None
                             else min_precision)

    def program_framework(self, program: str) -> str:
        for r in self.store.select("programs"):
            if r["id"] == program:
                if not r["fw"]:
                    raise NotFound(f"program {program!r} names no framework; give one", field="framework")
                return r["fw"]
        raise NotFound(f"program {program!r} is not loaded", field="program")
