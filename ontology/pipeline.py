"""Workforce pipeline: a health system's demand (roles x headcount per year) against how ready its
partner programs' graduates are for those roles (``role_readiness``), requirement by requirement.

A requirement is *covered* by a partner program when the program is ready for it (teaches the
competency at the required level or above); a requirement no partner covers is a candidate for a
co-designed course, and the development catalogue items that would develop it are listed beside it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass


from .careers import notation_key, catalogue
from .errors import NotFound
from .gaps import role_readiness
from .store import Store


@dataclass(frozen=True)
class PipelineRequirement:
    competency: str
    notation: str
    label: str
    relation: str
    required_level: int
    programs: dict  # program id -> {"status": ready|below_level|gap, "level_reached": int|None}
    covered_by: tuple[str, ...]
    catalogue: tuple[str, ...]  # catalogue items developing it to the required level

    @property
    def uncovered(self) -> bool:
        return not self.covered_by

    def to_dict(self) -> dict:
        return {**asdict(self), "uncovered": self.uncovered}


@dataclass(frozen=True)
class PipelineRole:
    role: str
    title: str
    demand: tuple[dict, ...]  # {"organization", "year", "headcount"}
    headcount: int
    partners: tuple[str, ...]
    readiness: dict  # program -> essential ready %
    requirements: tuple[PipelineRequirement, ...]

    def to_dict(self) -> dict:
        return {"role": self.role, "title": self.title, "headcount": self.headcount, "demand": list(self.demand),
                "partners": list(self.partners), "readiness": self.readiness,
                "requirements": [r.to_dict() for r in self.requirements],
                "uncovered": [r.notation for r in self.requirements if r.uncovered]}


@dataclass(frozen=True)
class PipelineReport:
    demand: str | None
    organizations: tuple[str, ...]
    years: tuple[int, ...]
    roles: tuple[PipelineRole, ...]
    summary: dict

    def to_dict(self) -> dict:
        return {"demand": self.demand, "organizations": list(self.organizations), "years": list(self.years),
                "summary": self.summary, "roles": [r.to_dict() for r in self.roles],
                "uncovered": [{"role": r.role, "notation": q.notation, "label": q.label, "relation": q.relation,
                               "required_level": q.required_level, "catalogue": list(q.catalogue)}
                              for r in self.roles for q in r.requirements if q.uncovered]}


def pipeline_report(store: Store, ids, demand: str | None = None, *, year: int | None = None) -> PipelineReport:
    """The pipeline report of one demand set (``demand`` = its id; default: every loaded demand)."""
    rows = store.select("workforce_demand", g=ids.graph("demand", demand) if demand else None)
    if not rows:
        raise NotFound(f"demand {demand!r} is not loaded" if demand else "no workforce demand is loaded",
                       field="demand")
    if year is not None:
        rows = [r for r in rows if int(r["year"]) == year]
        if not rows:
            raise NotFound(f"no demand for {year}", field="year")
    loaded_programs = sorted(p["id"] for p in store.select("programs"))
    by_role: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_role[r["rid"]].append(r)
    items = catalogue(store)
    out = []
    for rid, rs in sorted(by_role.items()):
        partners = sorted({p for r in rs for p in (r["partners"] or "").split(";") if p}) or loaded_programs
        per_program = {}
        for p in partners:
            try:
                per_program[p] = role_readiness(store, ids, p, rid)
            except NotFound:
                continue  # the program is not loaded (any more), or the role has no requirements
        reqs: dict[str, dict] = {}
        for p, rd in per_program.items():
            for it in rd.items:
                q = reqs.setdefault(it.competency, {"it": it, "programs": {}})
                q["programs"][p] = {"status": it.status, "level_reached": it.level_reached}
        reqlist = []
        for comp, q in reqs.items():
            it = q["it"]
            covered = tuple(sorted(p for p, s in q["programs"].items() if s["status"] == "ready"))
            cat = tuple(o.id for o in items if o.level_of(comp) >= it.required_level)
            reqlist.append(PipelineRequirement(competency=comp, notation=it.notation, label=it.label,
                                               relation=it.relation, required_level=it.required_level,
                                               programs=q["programs"], covered_by=covered, catalogue=cat))
        reqlist.sort(key=lambda q: (q.relation != "essential", not q.uncovered, notation_key(q.notation)))
        demand_rows = tuple(sorted(({"organization": r["org"], "year": int(r["year"]), "headcount": int(r["headcount"])}
                                    for r in rs), key=lambda d: (d["year"], d["organization"])))
        out.append(PipelineRole(role=rid, title=rs[0]["title"], demand=demand_rows,
                                headcount=sum(d["headcount"] for d in demand_rows), partners=tuple(per_program),
                                readiness={p: rd.summary["essential"]["ready_pct"] for p, rd in per_program.items()},
                                requirements=tuple(reqlist)))
    out.sort(key=lambda r: -r.headcount)
    n_req = sum(len(r.requirements) for r in out)
    n_unc = sum(1 for r in out for q in r.requirements if q.uncovered)
    summary = {"roles": len(out), "headcount": sum(r.headcount for r in out), "requirements": n_req,
               "uncovered": n_unc, "uncovered_essential": sum(1 for r in out for q in r.requirements
                                                              if q.uncovered and q.relation == "essential"),
               "covered_pct": round(100.0 * (n_req - n_unc) / n_req, 1) if n_req else 0.0}
    return PipelineReport(demand=demand, organizations=tuple(sorted({r["org"] for r in rows})),
                          years=tuple(sorted({int(r["year"]) for r in rows})), roles=tuple(out), summary=summary)


__all__ = ["pipeline_report", "PipelineReport", "PipelineRole", "PipelineRequirement"]
