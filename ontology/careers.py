"""Careers: a person's competency profile, the gap to a target role along the career pathway, a
development plan (least hours or cost, as an integer programme) and mentor matching over the whole pool.

Every function reads the store (people, evidence, roles, catalogue) and returns a frozen dataclass
with ``to_dict()``; nothing here writes.  Person data comes from private graphs: callers (the
service) decide who may see it.

Rules, in one place:

- **Held level** of a competency: the highest level of its evidence, where evidence older than
  ``FRESH_DAYS`` counts one level lower (skills fade; the profile says how fresh each one is).
  Evidence is stated on a competency itself: evidence for PC1 says nothing about PC1.1 or the reverse.
- **Gap**: a requirement of the target role whose required level is above the held level
  (``missing`` when nothing is held, ``below`` otherwise); essential requirements before optional.
- **Pathway**: the shortest chain of ``gm:transitionsTo`` from a role the person holds to the target;
  each step is a *track change* (the tracks differ), an *advancement* (same track, a later stage: the
  role's depth in the pathway graph grows) or *lateral* (same track, same or earlier stage).
- **Cover**: an opportunity closes a gap when it develops that competency to at least the required level.
"""
from __future__ import annotations

import itertools
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
from rdflib import Literal, URIRef

from . import people_ids as pids
from .errors import GapmapError, NotFound
from .store import Store

FRESH_DAYS = 3 * 365
RELATION_WEIGHT = {"essential": 1.0, "optional": 0.5}
SOURCE_NAMES = {"SupervisorRating": "supervisor", "SelfAssessment": "self", "PeerRating": "peer",
                "MilestoneRating": "milestone", "CredentialEvidence": "credential",
                "AssessmentEvidence": "assessment", "PortfolioEvidence": "portfolio"}


class CareersError(GapmapError):
    status = 400
    title = "Bad careers request"


def _local(iri) -> str:
    return str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1] if iri else ""


def _track(iri) -> str:
    return _local(iri).replace("Track", "").lower()


def _split(cell) -> list[str]:
    return [p for p in (cell or "").split(";") if p]


# ============================================================================ people and evidence
@dataclass(frozen=True)
class Person:
    id: str
    iri: str
    name: str
    username: str | None
    kind: str | None
    department: str | None
    site: str | None
    track: str | None
    roles: tuple[str, ...]
    past_roles: tuple[str, ...]
    target_roles: tuple[str, ...]
    walked_tracks: tuple[str, ...]
    remote: bool
    mentor_capacity: int
    mentor_offer: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def people(store: Store) -> dict[str, Person]:
    """Every loaded person, by id."""
    out = {}
    for r in store.select("people"):
        out[r["id"]] = Person(
            id=r["id"], iri=r["person"], name=r["name"], username=r["username"], kind=r["kind"],
            department=r["department"], site=r["site"], track=_track(r["track"]) if r["track"] else None,
            roles=tuple(_split(r["roles"])), past_roles=tuple(_split(r["pastRoles"])),
            target_roles=tuple(_split(r["targets"])),
            walked_tracks=tuple(sorted({_track(t) for t in _split(r["walkedTracks"])})),
            remote=bool(r["remote"]), mentor_capacity=int(r["capacity"] or 0), mentor_offer=r["offer"])
    return out


def get_person(store: Store, pid: str) -> Person:
    p = people(store).get(pid)
    if p is None:
        raise NotFound(f"no person {pid!r}", field="person")
    return p


@dataclass(frozen=True)
class EvidenceItem:
    iri: str | None
    source: str
    level: int
    date: str | None
    detail: str | None
    age_days: int | None
    fresh: bool
    derived_from: str | None = None

    def effective_level(self) -> int:
        return self.level if self.fresh else max(0, self.level - 1)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Held:
    competency: str
    notation: str
    label: str
    framework: str
    level: int
    latest: str | None
    fresh: bool
    evidence: tuple[EvidenceItem, ...]

    def to_dict(self) -> dict:
        return {**{k: v for k, v in asdict(self).items() if k != "evidence"},
                "evidence": [e.to_dict() for e in self.evidence]}


@dataclass(frozen=True)
class Profile:
    person: Person
    competencies: tuple[Held, ...]
    summary: dict

    def level(self, competency: str) -> int:
        return next((h.level for h in self.competencies if h.competency == competency), 0)

    def levels(self) -> dict[str, int]:
        return {h.competency: h.level for h in self.competencies}

    def to_dict(self) -> dict:
        return {"person": self.person.to_dict(), "summary": self.summary,
                "competencies": [h.to_dict() for h in self.competencies]}


def _age(d: str | None, today: date) -> int | None:
    if not d:
        return None
    try:
        return (today - date.fromisoformat(str(d)[:10])).days
    except ValueError:
        return None


def _evidence_rows(store: Store, ids, person: Person, today: date) -> dict[str, tuple[dict, list[EvidenceItem]]]:
    """competency IRI -> (competency info, evidence items), from stored evidence and assessment results."""
    out: dict[str, tuple[dict, list[EvidenceItem]]] = {}
    for r in store.select("person_evidence", person=URIRef(person.iri)):
        age = _age(r["date"], today)
        item = EvidenceItem(iri=r["evidence"], source=SOURCE_NAMES.get(_local(r["source"]), _local(r["source"])),
                            level=int(r["level"]), date=str(r["date"]) if r["date"] else None, detail=r["detail"],
                            age_days=age, fresh=age is None or age <= FRESH_DAYS, derived_from=r["derivedFrom"])
        out.setdefault(r["comp"], ({"notation": r["notation"], "label": r["label"], "fw": r["fw"]}, []))[1].append(item)
    # a learner's passed assessments are evidence too (results carry the learner's pseudonymous id)
    for r in store.select("learner_results", learner=Literal(person.id)):
        item = EvidenceItem(iri=r["result"], source="assessment", level=int(r["level"] or 1), date=None,
                            detail=f"passed {r['aid']}: {r['title']} (cohort {r['cohort']}, score {r['score']:.2f})",
                            age_days=None, fresh=True, derived_from=r["assessment"])
        out.setdefault(r["comp"], ({"notation": r["notation"], "label": r["label"], "fw": r["fw"]}, []))[1].append(item)
    return out


def profile(store: Store, ids, pid: str, *, today: date | None = None) -> Profile:
    """Competencies a person holds, at which level, from which evidence, and how fresh."""
    today = today or date.today()
    person = get_person(store, pid)
    held = []
    for comp, (info, items) in _evidence_rows(store, ids, person, today).items():
        items.sort(key=lambda e: (e.date or "9999"), reverse=True)
        level = max(e.effective_level() for e in items)
        if level < 1:
            continue
        dated = [e.date for e in items if e.date]
        held.append(Held(competency=comp, notation=info["notation"], label=info["label"], framework=info["fw"],
                         level=level, latest=max(dated) if dated else None, fresh=any(e.fresh for e in items),
                         evidence=tuple(items)))
    held.sort(key=lambda h: notation_key(h.notation))
    n_ev = sum(len(h.evidence) for h in held)
    summary = {"competencies": len(held), "evidence": n_ev,
               "stale": sum(1 for h in held if not h.fresh),
               "by_level": {str(lv): sum(1 for h in held if h.level == lv) for lv in range(1, 6)},
               "sources": dict(sorted({s: sum(1 for h in held for e in h.evidence if e.source == s)
                                       for s in {e.source for h in held for e in h.evidence}}.items()))}
    return Profile(person=person, competencies=tuple(held), summary=summary)


def notation_key(n: str):
    import re
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|\D+", n)]


# ============================================================================ pathway and gap
@dataclass(frozen=True)
class RoleInfo:
    id: str
    title: str
    track: str
    next: tuple[str, ...]


def roles(store: Store) -> dict[str, RoleInfo]:
    return {r["id"]: RoleInfo(r["id"], r["title"], _track(r["track"]), tuple(_split(r["next"])))
            for r in store.select("roles")}


def _depths(rs: dict[str, RoleInfo]) -> dict[str, int]:
    """Stage of each role: the longest chain of transitions leading to it (entry roles are 0)."""
    preds = defaultdict(set)
    for r in rs.values():
        for n in r.next:
            preds[n].add(r.id)
    memo: dict[str, int] = {}

    def depth(rid, seen=()):
        if rid in memo:
            return memo[rid]
        ps = [p for p in preds.get(rid, ()) if p not in seen and p in rs]
        memo[rid] = 1 + max(depth(p, (*seen, rid)) for p in ps) if ps else 0
        return memo[rid]
    return {rid: depth(rid) for rid in rs}


def requirements(store: Store, role: str) -> dict[str, dict]:
    """competency IRI -> requirement of ``role``: the role's full expectation (the highest level at any stage),
    since a person aims at the role itself, not at a program's graduation stage."""
    from .gaps import requirements_at
    return {r["comp"]: {"competency": r["comp"], "notation": r["notation"], "label": r["label"], "fw": r["fw"],
                        "level": int(r["level"]), "relation": _local(r["relation"]).lower()}
            for r in requirements_at(store.select("role_requirements", rid=Literal(role)), None)}


def shortest_path(rs: dict[str, RoleInfo], starts, target: str) -> list[str] | None:
    starts = [s for s in starts if s in rs]
    if target in starts:
        return [target]
    prev = {s: None for s in starts}
    q = deque(sorted(starts))
    while q:
        cur = q.popleft()
        for n in rs[cur].next:
            if n not in prev:
                prev[n] = cur
                if n == target:
                    path = [n]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return path[::-1]
                q.append(n)
    return None


@dataclass(frozen=True)
class Addition:
    notation: str
    label: str
    relation: str
    required_level: int
    previous_level: int | None  # what the previous role required, if anything
    held_level: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Step:
    from_role: str | None
    to_role: str
    title: str
    kind: str  # advancement | lateral | track_change | entry
    from_track: str | None
    to_track: str
    adds: tuple[Addition, ...]

    def to_dict(self) -> dict:
        return {**{k: v for k, v in asdict(self).items() if k != "adds"}, "adds": [a.to_dict() for a in self.adds]}


@dataclass(frozen=True)
class GapItem:
    competency: str
    notation: str
    label: str
    framework: str
    relation: str
    required_level: int
    held_level: int
    status: str  # met | below | missing

    @property
    def open(self) -> bool:
        return self.status != "met"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RoleGap:
    person: str
    name: str
    role: str
    title: str
    track: str
    path: tuple[str, ...]
    direct: bool  # True when no pathway in the role graph leads there: one direct step
    steps: tuple[Step, ...]
    items: tuple[GapItem, ...]
    summary: dict

    @property
    def gaps(self) -> tuple[GapItem, ...]:
        return tuple(i for i in self.items if i.open)

    def to_dict(self) -> dict:
        return {"person": self.person, "name": self.name, "role": self.role, "title": self.title, "track": self.track,
                "path": list(self.path), "direct": self.direct, "summary": self.summary,
                "steps": [s.to_dict() for s in self.steps], "requirements": [i.to_dict() for i in self.items]}


def classify_step(rs: dict[str, RoleInfo], depths: dict[str, int], a: str | None, b: str) -> str:
    if a is None:
        return "entry"
    if rs[a].track != rs[b].track:
        return "track_change"
    return "advancement" if depths.get(b, 0) > depths.get(a, 0) else "lateral"


def _order(items):
    rank = {"missing": 0, "below": 1, "met": 2}
    return sorted(items, key=lambda i: (i.relation != "essential", rank[i.status], notation_key(i.notation)))


def gap_items(reqs: dict[str, dict], levels: dict[str, int]) -> list[GapItem]:
    out = []
    for comp, r in reqs.items():
        held = levels.get(comp, 0)
        status = "met" if held >= r["level"] else ("below" if held else "missing")
        out.append(GapItem(competency=comp, notation=r["notation"], label=r["label"], framework=r["fw"],
                           relation=r["relation"], required_level=r["level"], held_level=held, status=status))
    return _order(out)


def role_gap(store: Store, ids, pid: str, role: str, *, prof: Profile | None = None,
             today: date | None = None) -> RoleGap:
    """The gap between a person and a target role, with the pathway steps that lead there."""
    rs = roles(store)
    if role not in rs:
        raise NotFound(f"role {role!r} is not loaded", field="role")
    prof = prof or profile(store, ids, pid, today=today)
    levels = prof.levels()
    person = prof.person
    depths = _depths(rs)
    path = shortest_path(rs, person.roles, role) if person.roles else None
    direct = False
    if path is None:
        # no chain of transitions: one direct step from the (most senior) current role, or an entry step
        start = max(person.roles, key=lambda r: depths.get(r, 0)) if person.roles else None
        path = [start, role] if start and start != role else [role]
        direct = bool(person.roles)
    steps = []
    prev_reqs = requirements(store, path[0]) if len(path) > 1 else {}
    pairs = list(zip(path, path[1:])) if len(path) > 1 else [(None, path[0])]
    for a, b in pairs:
        reqs_b = requirements(store, b)
        adds = []
        for comp, r in reqs_b.items():
            before = prev_reqs.get(comp)
            if before is None or before["level"] < r["level"]:
                adds.append(Addition(notation=r["notation"], label=r["label"], relation=r["relation"],
                                     required_level=r["level"], previous_level=before["level"] if before else None,
                                     held_level=levels.get(comp, 0)))
        adds.sort(key=lambda x: (x.relation != "essential", notation_key(x.notation)))
        steps.append(Step(from_role=a, to_role=b, title=rs[b].title, kind=classify_step(rs, depths, a, b),
                          from_track=rs[a].track if a else None, to_track=rs[b].track, adds=tuple(adds)))
        prev_reqs = reqs_b
    items = gap_items(requirements(store, role), levels)

    def count(rel):
        sel = [i for i in items if i.relation == rel]
        return {"required": len(sel), "met": sum(i.status == "met" for i in sel),
                "below": sum(i.status == "below" for i in sel), "missing": sum(i.status == "missing" for i in sel)}
    summary = {"essential": count("essential"), "optional": count("optional"), "steps": len(steps),
               "ready": all(i.status == "met" for i in items if i.relation == "essential")}
    return RoleGap(person=pid, name=person.name, role=role, title=rs[role].title, track=rs[role].track,
                   path=tuple(p for p in path if p), direct=direct, steps=tuple(steps), items=tuple(items),
                   summary=summary)


# ============================================================================ catalogue and plans
@dataclass(frozen=True)
class Opportunity:
    id: str
    iri: str
    title: str
    kind: str
    hours: float
    cost: float
    format: str | None
    provider: str | None
    description: str | None
    url: str | None
    source: str | None  # the Open Badges achievement id, for items loaded from OB3
    develops: tuple[tuple[str, str, int], ...]  # (competency IRI, notation, level)

    def level_of(self, competency: str) -> int:
        return max((lv for c, _, lv in self.develops if c == competency), default=0)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["develops"] = [{"competency": c, "notation": n, "level": lv} for c, n, lv in self.develops]
        return d


def catalogue(store: Store) -> list[Opportunity]:
    items: dict[str, dict] = {}
    for r in store.select("catalogue"):
        it = items.setdefault(r["id"], {**r, "develops": []})
        it["develops"].append((r["comp"], r["notation"], int(r["level"])))
    return [Opportunity(id=r["id"], iri=r["item"], title=r["title"], kind=r["kind"], hours=float(r["hours"]),
                        cost=float(r["cost"]), format=r["format"], provider=r["provider"],
                        description=r["description"], url=r["url"], source=r["source"],
                        develops=tuple(sorted(set(r["develops"]), key=lambda d: notation_key(d[1]))))
            for r in sorted(items.values(), key=lambda r: r["id"])]


def catalogue_suggestions(store: Store, items: list[Opportunity], linker, framework: str, *,
                          min_precision: float = 0.3, top_k: int = 3) -> dict[str, list[dict]]:
    """Competencies an item does not name but its title and description suggest (alignment engine), per item id.

    They are marked unreviewed and never count in plans: only what the catalogue names does.
    """
    labels = {r["comp"]: (r["notation"], r["label"]) for r in store.select("framework_competencies",
                                                                           fw=Literal(framework))}
    texts = [f"{it.title}. {it.description or ''}".strip() for it in items]
    ranked = linker.rank(texts, top_k=top_k) if texts else []
    out: dict[str, list[dict]] = {}
    for it, matches in zip(items, ranked):
        named = {c for c, _, _ in it.develops}
        out[it.id] = [{"competency": m.uri, "notation": labels[m.uri][0], "label": labels[m.uri][1],
                       "score": round(m.score, 4), "precision": round(m.precision, 4),
                       "evidence": m.evidence.to_dict(), "reviewed": False}
                      for m in matches if m.uri in labels and m.uri not in named and m.precision >= min_precision]
    return out


@dataclass(frozen=True)
class CoverSolution:
    chosen: tuple[int, ...]  # indices of the chosen items
    covered: frozenset[int]  # indices of the gaps they close
    uncoverable: tuple[int, ...]  # gaps no item closes
    total: float
    method: str
    optimal: bool
    seconds: float


def _weights(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    # lexicographic: the secondary objective (and the item count) only break ties of the primary one
    eps = 1e-3 / (1.0 + float(secondary.sum()) + len(primary))
    return primary + eps * (secondary + 1.0)


def cover_matrix(gaps: list[tuple[str, int]], items: list[Opportunity]) -> np.ndarray:
    """A[g, i] = 1 when item i develops gap g's competency to at least its required level."""
    A = np.zeros((len(gaps), len(items)), dtype=np.int8)
    for i, it in enumerate(items):
        for g, (comp, req) in enumerate(gaps):
            if it.level_of(comp) >= req:
                A[g, i] = 1
    return A


def solve_cover(A: np.ndarray, w: np.ndarray, method: str = "milp") -> CoverSolution:
    """Weighted set cover: the cheapest set of columns covering every coverable row of ``A``."""
    t0 = time.perf_counter()
    rows = A.any(axis=1)
    uncoverable = tuple(int(g) for g in np.flatnonzero(~rows))
    Ac = A[rows]
    n = A.shape[1]
    if Ac.shape[0] == 0:
        return CoverSolution((), frozenset(), uncoverable, 0.0, method, True, time.perf_counter() - t0)
    if method == "milp":
        from scipy.optimize import Bounds, LinearConstraint, milp
        res = milp(c=w, constraints=LinearConstraint(Ac.astype(float), lb=1, ub=np.inf),
                   integrality=np.ones(n), bounds=Bounds(0, 1), options={"time_limit": 10})
        if res.x is None:
            raise CareersError(f"the plan could not be solved: {res.message}")
        chosen = tuple(int(i) for i in np.flatnonzero(res.x > 0.5))
        optimal = res.status == 0
    elif method == "greedy":
        uncovered = set(range(Ac.shape[0]))
        chosen_l = []
        while uncovered:
            best, best_ratio = None, None
            for i in range(n):
                if i in chosen_l:
                    continue
                new = sum(1 for g in uncovered if Ac[g, i])
                if not new:
                    continue
                ratio = w[i] / new
                if best is None or ratio < best_ratio:
                    best, best_ratio = i, ratio
            chosen_l.append(best)
            uncovered -= {g for g in uncovered if Ac[g, best]}
        chosen, optimal = tuple(sorted(chosen_l)), False
    elif method == "brute":
        best = None
        for k in range(n + 1):
            for combo in itertools.combinations(range(n), k):
                if Ac[:, list(combo)].any(axis=1).all() if combo else False:
                    cost = float(w[list(combo)].sum())
                    if best is None or cost < best[0]:
                        best = (cost, combo)
        chosen, optimal = tuple(best[1]), True
    else:
        raise CareersError(f"unknown method {method!r}", field="method")
    covered_rows = np.flatnonzero(rows)
    covered = frozenset(int(covered_rows[g]) for g in range(Ac.shape[0]) if Ac[g, list(chosen)].any())
    return CoverSolution(chosen, covered, uncoverable, float(w[list(chosen)].sum()) if chosen else 0.0, method,
                         optimal, time.perf_counter() - t0)


@dataclass(frozen=True)
class PlanItem:
    opportunity: Opportunity
    closes: tuple[str, ...]  # notations of the gaps this item closes
    closes_only: tuple[str, ...]  # gaps no other chosen item closes

    def to_dict(self) -> dict:
        return {**self.opportunity.to_dict(), "closes": list(self.closes), "closes_only": list(self.closes_only)}


@dataclass(frozen=True)
class Plan:
    person: str
    role: str
    objective: str
    method: str
    optimal: bool
    items: tuple[PlanItem, ...]
    gaps: tuple[GapItem, ...]
    open_gaps: tuple[GapItem, ...]  # gaps nothing in the catalogue closes
    total_hours: float
    total_cost: float
    seconds: float
    greedy: dict | None = None

    def to_dict(self) -> dict:
        return {"person": self.person, "role": self.role, "objective": self.objective, "method": self.method,
                "optimal": self.optimal, "total_hours": self.total_hours, "total_cost": self.total_cost,
                "gaps": len(self.gaps), "closed": len(self.gaps) - len(self.open_gaps),
                "items": [i.to_dict() for i in self.items],
                "open_gaps": [g.to_dict() for g in self.open_gaps],
                "gap_items": [g.to_dict() for g in self.gaps], "greedy": self.greedy,
                "seconds": round(self.seconds, 4)}

    def to_graph(self, ids, user: str, when: str):
        """The plan as PROV-annotated RDF (for the private ``plans`` graph)."""
        from rdflib import Graph
        from rdflib.namespace import XSD

        from .vocab import GM, PROV, RDF
        g = Graph()
        p = pids.plan(ids, self.person, self.role, self.objective)
        g.add((p, RDF.type, GM.DevelopmentPlan))
        g.add((p, RDF.type, PROV.Entity))
        g.add((p, GM.planFor, pids.person(ids, self.person)))
        g.add((p, GM.planTarget, ids.role(self.role)))
        g.add((p, GM.planObjective, Literal(self.objective)))
        g.add((p, GM.totalHours, Literal(f"{self.total_hours:g}", datatype=XSD.decimal)))
        g.add((p, GM.totalCost, Literal(f"{self.total_cost:g}", datatype=XSD.decimal)))
        g.add((p, PROV.generatedAtTime, Literal(when, datatype=XSD.dateTime)))
        g.add((p, PROV.wasAttributedTo, ids.agent(user)))
        for it in self.items:
            g.add((p, GM.includesOpportunity, URIRef(it.opportunity.iri)))
        closed = {g_.notation: g_.competency for g_ in self.gaps}
        for it in self.items:
            for n in it.closes:
                g.add((p, GM.closesGap, URIRef(closed[n])))
        for gi in self.open_gaps:
            g.add((p, GM.openGap, URIRef(gi.competency)))
        return g


OBJECTIVES = ("hours", "cost")


def plan_for_gaps(gaps: list[GapItem], items: list[Opportunity], objective: str = "hours",
                  method: str = "milp") -> tuple[CoverSolution, list[PlanItem], list[GapItem]]:
    if objective not in OBJECTIVES:
        raise CareersError(f"objective must be one of {', '.join(OBJECTIVES)}", field="objective")
    A = cover_matrix([(g.competency, g.required_level) for g in gaps], items)
    hours = np.array([it.hours for it in items], dtype=float)
    cost = np.array([it.cost for it in items], dtype=float)
    w = _weights(hours, cost) if objective == "hours" else _weights(cost, hours)
    sol = solve_cover(A, w, method) if len(items) else CoverSolution(
        (), frozenset(), tuple(range(len(gaps))), 0.0, method, True, 0.0)
    chosen = []
    for i in sol.chosen:
        closes = [gaps[g].notation for g in range(len(gaps)) if A[g, i]]
        only = [gaps[g].notation for g in range(len(gaps)) if A[g, i] and
                not any(A[g, j] for j in sol.chosen if j != i)]
        chosen.append(PlanItem(items[i], tuple(closes), tuple(only)))
    chosen.sort(key=lambda p: (-len(p.closes), p.opportunity.id))
    open_gaps = [gaps[g] for g in sol.uncoverable]
    return sol, chosen, open_gaps


def development_plan(store: Store, ids, pid: str, role: str, *, objective: str = "hours",
                     include_optional: bool = True, method: str = "milp", gap: RoleGap | None = None,
                     compare_greedy: bool = True) -> Plan:
    """The catalogue items that close the person's gap to ``role`` at the least hours (or cost)."""
    if objective not in OBJECTIVES:
        raise CareersError(f"objective must be one of {', '.join(OBJECTIVES)}", field="objective")
    gap = gap or role_gap(store, ids, pid, role)
    gaps = [g for g in gap.gaps if include_optional or g.relation == "essential"]
    items = catalogue(store)
    sol, chosen, open_gaps = plan_for_gaps(gaps, items, objective, method)
    greedy = None
    if compare_greedy and method != "greedy" and gaps:
        gsol, gchosen, _ = plan_for_gaps(gaps, items, objective, "greedy")
        greedy = {"items": [c.opportunity.id for c in gchosen],
                  "total_hours": sum(c.opportunity.hours for c in gchosen),
                  "total_cost": sum(c.opportunity.cost for c in gchosen)}
    return Plan(person=pid, role=role, objective=objective, method=sol.method, optimal=sol.optimal,
                items=tuple(chosen), gaps=tuple(gaps), open_gaps=tuple(open_gaps),
                total_hours=sum(c.opportunity.hours for c in chosen),
                total_cost=sum(c.opportunity.cost for c in chosen),
                seconds=sol.seconds, greedy=greedy)
