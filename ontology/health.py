"""Curriculum health checks: the reports committees ask for most, each a list of findings.

* ``unmapped_objectives``        objectives no accepted alignment ties to a competency (with how many
                                 suggestions wait for review);
* ``empty_sessions``             sessions with no objective;
* ``unassessed_courses``         courses where nothing they teach is assessed in the course (no assessment of
                                 the course assesses any competency its objectives are accepted for);
* ``suggestion_only``            competencies the program reaches only through unreviewed suggestions;
* ``broken_chains``              session → course → program links missing (or an objective whose session
                                 belongs to another course);
* ``near_duplicates``            pairs of objectives in different courses whose embeddings have cosine at
                                 or above ``threshold`` (needs an encoder; skipped, and said so, without one).

Every check reads named queries (``queries/health_*.rq`` and the report queries); nothing is written.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from rdflib import Literal, URIRef

from .errors import GapmapError, NotFound
from .store import Store
from .vocab import ACCEPTED, SUGGESTED

class BadCheck(GapmapError):
    status = 400
    title = "Bad parameter"


CHECKS = ("unmapped_objectives", "empty_sessions", "unassessed_courses", "suggestion_only", "broken_chains",
          "near_duplicates")
TITLES = {
    "unmapped_objectives": "Objectives with no competency",
    "empty_sessions": "Sessions with no objective",
    "unassessed_courses": "Courses with no assessment of what they teach",
    "suggestion_only": "Competencies mapped only through unreviewed suggestions",
    "broken_chains": "Broken session → course → program links",
    "near_duplicates": "Near-duplicate objectives across courses",
}


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    findings: tuple[dict, ...]
    note: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "count": len(self.findings), "note": self.note,
                "findings": list(self.findings)}


@dataclass(frozen=True)
class HealthReport:
    program: str
    framework: str
    checks: tuple[Check, ...]
    summary: dict = field(default_factory=dict)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict:
        return {"program": self.program, "framework": self.framework, "summary": self.summary,
                "checks": [c.to_dict() for c in self.checks]}


def near_duplicates(rows: list[dict], encoder, threshold: float = 0.9, limit: int = 200) -> list[dict]:
    """Pairs of objectives (rows with oid, code, text) in different courses with cosine >= threshold."""
    rows = [r for r in rows if r.get("text")]
    if len(rows) < 2:
        return []
    vecs = np.asarray(encoder.encode([r["text"] for r in rows]), dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs = vecs / np.where(norms == 0, 1, norms)
    courses = np.array([r["code"] for r in rows])
    out = []
    for i0 in range(0, len(rows), 512):  # blocks keep the similarity matrix small on big programs
        sims = vecs[i0:i0 + 512] @ vecs.T
        for bi, j in zip(*np.nonzero(sims >= threshold)):
            i = i0 + int(bi)
            j = int(j)
            if j <= i or courses[i] == courses[j]:
                continue
            a, b = rows[i], rows[j]
            out.append({"cosine": round(float(sims[bi, j]), 4),
                        "a": {"objective": a["oid"], "course": a["code"], "text": a["text"]},
                        "b": {"objective": b["oid"], "course": b["code"], "text": b["text"]}})
    out.sort(key=lambda d: (-d["cosine"], d["a"]["objective"], d["b"]["objective"]))
    return out[:limit]


def health(store: Store, ids, program: str, framework: str | None = None, *, encoder=None,
           threshold: float = 0.9, checks: tuple[str, ...] = CHECKS) -> HealthReport:
    """Run the health ``checks`` over ``program`` (competencies of ``framework`` when given)."""
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise BadCheck(f"no health check {unknown[0]!r}; checks are {', '.join(CHECKS)}", field="checks")
    pid = ids.program(program)
    if not any(r["id"] == program for r in store.select("programs")):
        raise NotFound(f"program {program!r} is not loaded", field="program")
    objectives = store.select("health_objectives", program=pid)
    comp_fw = None
    if framework:
        comp_fw = {r["comp"]: r for r in store.select("framework_competencies", fw=Literal(framework))}
        if not comp_fw:
            raise NotFound(f"framework {framework!r} is not loaded", field="framework")
    out = []
    if "unmapped_objectives" in checks:
        out.append(Check("unmapped_objectives", TITLES["unmapped_objectives"], tuple(
            {"objective": r["oid"], "course": r["code"], "year": r["year"], "text": r["text"],
             "suggestions": int(r["suggested"])}
            for r in objectives if not int(r["accepted"]))))
    if "empty_sessions" in checks:
        out.append(Check("empty_sessions", TITLES["empty_sessions"], tuple(
            {"session": r["sid"] or r["session"], "title": r["stitle"], "course": r["code"], "year": r["year"]}
            for r in store.select("health_sessions", program=pid) if not int(r["objectives"]))))
    teaching = store.select("program_teaching", program=pid) if {"unassessed_courses", "suggestion_only"} & set(
        checks) else []
    if "unassessed_courses" in checks:
        taught = defaultdict(set)
        for r in teaching:
            if URIRef(r["status"]) == ACCEPTED:
                taught[r["code"]].add(r["comp"])
        assessed = defaultdict(set)
        n_assess = defaultdict(set)
        for r in store.select("program_assessing", program=pid):
            assessed[r["code"]].add(r["comp"])
            n_assess[r["code"]].add(r["aid"])
        found = []
        for c in store.select("program_courses", pid=Literal(program)):
            code = c["code"]
            if taught[code] and not (taught[code] & assessed[code]):
                found.append({"course": code, "title": c["title"], "year": c["year"],
                              "competencies_taught": len(taught[code]), "assessments": sorted(n_assess[code])})
        out.append(Check("unassessed_courses", TITLES["unassessed_courses"], tuple(found)))
    if "suggestion_only" in checks:
        acc, sug = set(), defaultdict(list)
        for r in teaching:
            st = URIRef(r["status"])
            if st == ACCEPTED:
                acc.add(r["comp"])
            elif st == SUGGESTED:
                sug[r["comp"]].append(r)
        labels = comp_fw or {}
        found = []
        for comp, rows in sug.items():
            if comp in acc or (comp_fw is not None and comp not in comp_fw):
                continue
            info = labels.get(comp) or {}
            found.append({"competency": comp, "notation": info.get("notation") or comp.rsplit("/", 1)[-1],
                          "label": info.get("label"), "suggestions": len(rows),
                          "best_precision": max((float(r["precision"] or 0) for r in rows), default=0.0),
                          "objectives": sorted({r["oid"] for r in rows})})
        found.sort(key=lambda d: d["notation"])
        out.append(Check("suggestion_only", TITLES["suggestion_only"], tuple(found)))
    if "broken_chains" in checks:
        out.append(Check("broken_chains", TITLES["broken_chains"], tuple(
            {"kind": r["kind"], "node": r["node"], "notation": r["notation"], "other": r["other"]}
            for r in store.select("health_broken_chains"))))
    if "near_duplicates" in checks:
        if encoder is None:
            out.append(Check("near_duplicates", TITLES["near_duplicates"], (), note="no encoder given: not run"))
        else:
            rows = [{"oid": r["oid"], "code": r["code"], "text": r["text"]} for r in objectives]
            out.append(Check("near_duplicates", TITLES["near_duplicates"],
                             tuple(near_duplicates(rows, encoder, threshold)),
                             note=f"cosine >= {threshold} between objectives of different courses"))
    summary = {c.name: len(c.findings) for c in out}
    summary["objectives"] = len(objectives)
    return HealthReport(program=program, framework=framework or "", checks=tuple(out), summary=summary)
