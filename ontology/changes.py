"""What changed since the last framework or curriculum version.

Before a framework, curriculum, assessments or syllabus source is replaced, the gap report of
every program that depends on it is saved as RDF (a ``gm:GapReport`` in its own named graph,
``graph/reports/{program}/{stamp}``).  :func:`changes` compares the current report with a saved
one: competencies whose status changed, that appeared or disappeared, and how many objectives
and assessments teach and assess each.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from rdflib import Graph, Literal, URIRef

from .errors import NotFound
from .gaps import gap_report
from .store import Store
from .vocab import DCTERMS, GAP_STATUSES

_STATUS_NAME = {str(v): k for k, v in GAP_STATUSES.items()}


@dataclass(frozen=True)
class Change:
    notation: str
    competency: str
    kind: str  # "status", "added", "removed", "coverage" (same status, other objectives/assessments)
    before: str | None
    after: str | None
    objectives_before: int
    objectives_after: int
    assessments_before: int
    assessments_after: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ChangeReport:
    program: str
    framework: str
    since: str
    since_label: str | None
    since_at: str
    changes: tuple[Change, ...]
    summary: dict

    def to_dict(self) -> dict:
        return {"program": self.program, "framework": self.framework,
                "since": {"report": self.since, "label": self.since_label, "at": self.since_at},
                "summary": self.summary, "changes": [c.to_dict() for c in self.changes]}


def signature(rep) -> tuple:
    """What a change report compares: status and how many objectives/assessments, per competency."""
    return tuple((e.competency, e.status, len(e.taught_by), len(e.assessed_by)) for e in rep.entries)


@dataclass(frozen=True)
class Capture:
    """A gap report taken before a reload, kept only if the reload changes it."""

    program: str
    framework: str
    graph_name: URIRef
    graph: Graph
    signature: tuple

    def changed(self, store: Store, ids) -> bool:
        try:
            return signature(gap_report(store, ids, self.program, self.framework)) != self.signature
        except NotFound:  # the program or framework is gone: that is a change
            return True


def capture(store: Store, ids, program: str, framework: str, label: str, *,
            now: datetime | None = None) -> Capture:
    """The current gap report of ``program`` (all years, no role) as a named graph, not yet written."""
    now = now or datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    rep = gap_report(store, ids, program, framework)
    iri = ids.activity(f"snapshot-{program}-{stamp}")
    g = rep.to_graph(ids, when=now.isoformat(timespec="microseconds"), iri=iri)
    g.add((iri, DCTERMS.description, Literal(label)))
    return Capture(program, framework, ids.graph("reports", f"{program}/{stamp}"), g, signature(rep))


def snapshots(store: Store, ids, program: str) -> list[dict]:
    return [{"report": r["report"], "at": r["at"], "label": r["label"], "framework": r["fw"]}
            for r in store.select("report_snapshots", program=ids.program(program))]


def changes(store: Store, ids, program: str, since: str | None = None) -> ChangeReport:
    """Compare the current gap report with a saved one (default: the latest)."""
    saved = snapshots(store, ids, program)
    if since:
        saved = [s for s in saved if s["report"] == since or s["report"].rsplit("/", 1)[-1] == since]
    if not saved:
        raise NotFound(f"no saved report for program {program!r}" + (f" named {since!r}" if since else "")
                       + "; reports are saved before each reload of a framework or curriculum", field="since")
    snap = saved[0]
    before = {r["comp"]: r for r in store.select("report_entries", report=URIRef(snap["report"]))}
    now = gap_report(store, ids, program, snap["framework"])
    after = {e.competency: e for e in now.entries}
    out = []
    for comp in sorted(set(before) | set(after), key=lambda c: (before.get(c) or {}).get("notation")
                       or after[c].notation):
        b, a = before.get(comp), after.get(comp)
        bs = _STATUS_NAME.get(b["status"]) if b else None
        ob, ab = (int(b["objectives"]), int(b["assessments"])) if b else (0, 0)
        oa, aa = (len(a.taught_by), len(a.assessed_by)) if a else (0, 0)
        kind = ("added" if b is None else "removed" if a is None else "status" if bs != a.status
                else "coverage" if (ob, ab) != (oa, aa) else None)
        if kind:
            out.append(Change(notation=(a.notation if a else b["notation"]), competency=comp, kind=kind,
                              before=bs, after=a.status if a else None, objectives_before=ob, objectives_after=oa,
                              assessments_before=ab, assessments_after=aa))
    summary = {k: sum(c.kind == k for c in out) for k in ("status", "added", "removed", "coverage")}
    summary["improved"] = sum(c.kind == "status" and c.after == "covered" for c in out)
    summary["worsened"] = sum(c.kind == "status" and c.before == "covered" for c in out)
    return ChangeReport(program=program, framework=snap["framework"], since=snap["report"],
                        since_label=snap["label"], since_at=str(snap["at"]), changes=tuple(out), summary=summary)
