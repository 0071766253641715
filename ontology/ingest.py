"""Validate a loader's delta against the SHACL shapes and write it, all or nothing."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from .errors import ValidationError
from .fastgraph import fast_graph
from .store import Store


@dataclass(frozen=True)
class IngestResult:
    graphs: tuple[str, ...]
    triples: int
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"graphs": list(self.graphs), "triples": self.triples, "summary": dict(self.summary),
                "seconds": round(self.seconds, 3)}


def ingest(store: Store, delta, *, validate: bool = True, extra: dict | None = None) -> IngestResult:
    """Check ``delta`` (a loaders.base.Delta) with SHACL, then replace its graphs in one transaction.

    ``extra`` graphs (not validated: written by Gapmap itself, e.g. the gap report saved before a
    reload) are replaced in that same transaction, so they land together with the delta or not at all.
    On any violation a :class:`ValidationError` naming the rows and columns is raised and
    the store is left exactly as it was.
    """
    from .shacl import validate as shacl_validate

    t0 = time.perf_counter()
    if validate:
        graphs = list(delta.graphs.values())
        if len(graphs) == 1:
            union = graphs[0]  # no copy (validation only reads it)
        else:
            union = fast_graph()
            for g in graphs:
                union += g
        violations = shacl_validate(union, origin=delta.origin, columns=delta.columns)
        if violations:
            raise ValidationError(violations)
    store.replace_graphs({**(extra or {}), **delta.graphs})
    return IngestResult(graphs=tuple(str(g) for g in delta.graphs), triples=len(delta),
                        summary=dict(delta.summary), seconds=time.perf_counter() - t0)
