"""Versions of a program's gap report: compare any two saved reports, and what ``/changes`` says on a fresh install.

Saved reports are the ``gm:GapReport`` snapshots :mod:`ontology.changes` keeps before every reload that changes a
report (and before a draft is applied).  :func:`compare_saved` compares two of them (``before`` older than
``after`` or not: the result says which is which) entry by entry, the same way :func:`ontology.changes.changes`
compares a saved report with today's.
"""
from __future__ import annotations

from rdflib import URIRef

from .changes import Change, ChangeReport, _STATUS_NAME, snapshots
from .errors import NotFound
from .store import Store


def _find(saved: list[dict], key: str, field: str) -> dict:
    for s in saved:
        if s["report"] == key or s["report"].rsplit("/", 1)[-1] == key:
            return s
    raise NotFound(f"no saved report {key!r}", field=field)


def compare_saved(store: Store, ids, program: str, before: str, after: str) -> ChangeReport:
    """What changed between two saved reports of ``program`` (ids or IRIs from ``/changes?list=1``)."""
    saved = snapshots(store, ids, program)
    b, a = _find(saved, before, "since"), _find(saved, after, "until")
    rb = {r["comp"]: r for r in store.select("report_entries", report=URIRef(b["report"]))}
    ra = {r["comp"]: r for r in store.select("report_entries", report=URIRef(a["report"]))}
    out = []
    for comp in sorted(set(rb) | set(ra), key=lambda c: (rb.get(c) or ra.get(c))["notation"]):
        x, y = rb.get(comp), ra.get(comp)
        bs = _STATUS_NAME.get(x["status"]) if x else None
        as_ = _STATUS_NAME.get(y["status"]) if y else None
        ob, ab = (int(x["objectives"]), int(x["assessments"])) if x else (0, 0)
        oa, aa = (int(y["objectives"]), int(y["assessments"])) if y else (0, 0)
        kind = ("added" if x is None else "removed" if y is None else "status" if bs != as_
                else "coverage" if (ob, ab) != (oa, aa) else None)
        if kind:
            out.append(Change(notation=(y or x)["notation"], competency=comp, kind=kind, before=bs, after=as_,
                              objectives_before=ob, objectives_after=oa, assessments_before=ab, assessments_after=aa))
    summary = {k: sum(c.kind == k for c in out) for k in ("status", "added", "removed", "coverage")}
    summary["improved"] = sum(c.kind == "status" and c.after == "covered" for c in out)
    summary["worsened"] = sum(c.kind == "status" and c.before == "covered" for c in out)
    rep = ChangeReport(program=program, framework=a["framework"], since=b["report"], since_label=b["label"],
                       since_at=str(b["at"]), changes=tuple(out), summary=summary)
    return rep


def no_changes_yet(program: str) -> dict:
    """The answer of ``/changes`` when no report has been saved yet (a fresh install): nothing changed."""
    return {"program": program, "framework": None, "since": None,
            "summary": {k: 0 for k in ("status", "added", "removed", "coverage", "improved", "worsened")},
            "changes": [],
            "note": "no saved report yet: a report is saved before each reload of a framework, curriculum, "
                    "assessments or syllabus that changes it (and before a draft is applied), so there is "
                    "nothing to compare with"}
