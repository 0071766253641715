"""Mentor matching over the whole pool: mentors who hold a mentee's gap competencies at a higher level and are on
(or have walked) the target track, as one assignment with capacities (``scipy.optimize.linear_sum_assignment``
over mentor places), in two modes (best total match; full participation), each match explaining itself.
Split from ``ontology/careers.py``, whose profiles, gaps and requirements it uses."""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
from rdflib import Literal

from . import people_ids as pids
from .careers import (CareersError, FRESH_DAYS, OBJECTIVES, Opportunity, Person, Plan, Profile, RELATION_WEIGHT,
                      RoleGap, _age, catalogue, cover_matrix, development_plan, gap_items, get_person, people, profile, requirements, role_gap, roles, solve_cover)
from .errors import NotFound
from .store import Store


@dataclass(frozen=True)
class MatchConfig:
    """Weights and hard rules of a mentoring program.

    ``department``: None (no rule), "same" (mentor must be in the mentee's department) or "different".
    ``conflicts``: pairs of person ids that must never be matched.  Mentee and mentor at different sites
    are matched only when both accept remote meetings.  ``require_track``: the mentor must be on, or have
    walked, the track of the mentee's target role.  No other attribute of a person is used.
    """

    coverage_weight: float = 1.0
    track_weight: float = 0.3
    department: str | None = None
    conflicts: frozenset = frozenset()
    require_track: bool = False

    def __post_init__(self):
        if self.department not in (None, "same", "different"):
            raise CareersError("department must be same or different", field="department")


@dataclass(frozen=True)
class MatchGap:
    notation: str
    label: str
    relation: str
    required_level: int
    mentee_level: int
    mentor_level: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Match:
    mentee: str
    mentee_name: str
    mentor: str
    mentor_name: str
    target_role: str
    score: float
    coverage: float  # share of the mentee's (weighted) gap the mentor covers
    covers: tuple[MatchGap, ...]
    not_covered: tuple[str, ...]
    track: str
    track_match: bool
    rules: tuple[str, ...]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["covers"] = [c.to_dict() for c in self.covers]
        d["explanation"] = self.explain()
        return d

    def explain(self) -> str:
        cov = ", ".join(f"{c.notation} ({c.mentee_level}→{c.required_level}, mentor {c.mentor_level})"
                        for c in self.covers)
        track = (f"has walked the {self.track} track" if self.track_match else f"not on the {self.track} track")
        return (f"{self.mentor_name} covers {len(self.covers)} of the gaps to {self.target_role}"
                f"{': ' + cov if cov else ''}; {track}; " + "; ".join(self.rules))


@dataclass(frozen=True)
class MatchResult:
    mode: str
    method: str
    matches: tuple[Match, ...]
    unmatched: tuple[dict, ...]
    mentors: tuple[dict, ...]
    summary: dict

    def to_dict(self) -> dict:
        return {"mode": self.mode, "method": self.method, "summary": self.summary,
                "matches": [m.to_dict() for m in self.matches], "unmatched": list(self.unmatched),
                "mentors": list(self.mentors)}

    def to_graph(self, ids, user: str, when: str):
        from rdflib import Graph
        from rdflib.namespace import XSD

        from .vocab import GM, PROV, RDF
        g = Graph()
        for m in self.matches:
            node = pids.match(ids, self.mode, m.mentee, m.mentor)
            g.add((node, RDF.type, GM.MentorMatch))
            g.add((node, RDF.type, PROV.Entity))
            g.add((node, GM.mentee, pids.person(ids, m.mentee)))
            g.add((node, GM.mentor, pids.person(ids, m.mentor)))
            g.add((node, GM.matchScore, Literal(f"{m.score:.4f}", datatype=XSD.decimal)))
            g.add((node, GM.matchMode, Literal(self.mode)))
            g.add((node, PROV.generatedAtTime, Literal(when, datatype=XSD.dateTime)))
            g.add((node, PROV.wasAttributedTo, ids.agent(user)))
        return g


@dataclass
class Pool:
    """Numeric form of a matching problem (also built synthetically by the benchmark)."""

    gap_w: np.ndarray  # mentees x competencies: weight of each open gap (0: no gap)
    gap_req: np.ndarray  # mentees x competencies: required level (int)
    mentor_lvl: np.ndarray  # mentors x competencies: held level (int)
    capacity: np.ndarray  # mentors
    track_ok: np.ndarray  # mentees x mentors: bool, mentor on/has walked the target track
    feasible: np.ndarray  # mentees x mentors: bool, hard rules

    def coverage(self) -> np.ndarray:
        """mentees x mentors: share of each mentee's weighted gap that each mentor covers."""
        total = self.gap_w.sum(axis=1)
        cov = np.zeros((self.gap_w.shape[0], self.mentor_lvl.shape[0]))
        for r in range(1, 6):
            gw = self.gap_w * (self.gap_req == r)
            if gw.any():
                cov += gw @ (self.mentor_lvl >= r).T.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total[:, None] > 0, cov / total[:, None], 0.0)


def assign(pool: Pool, cfg: MatchConfig, mode: str = "best",
           method: str = "lsa") -> tuple[list[tuple[int, int]], np.ndarray]:
    """Pairs (mentee, mentor) respecting capacities and hard rules, and the score matrix.

    ``best``: maximise the total score (a mentee whose every option scores 0 stays unmatched).
    ``full``: first as many mentees matched as capacity and rules allow, then the best total score.
    ``lsa`` solves it exactly (scipy's linear_sum_assignment with one column per mentor slot and one
    "no mentor" column per mentee); ``greedy`` takes the best remaining pair first.
    """
    if mode not in ("best", "full"):
        raise CareersError("mode must be best or full", field="mode")
    score = cfg.coverage_weight * pool.coverage() + cfg.track_weight * pool.track_ok
    feasible = pool.feasible.copy()
    if cfg.require_track:
        feasible &= pool.track_ok
    if mode == "best":
        feasible &= score > 0
    n, m = score.shape
    if method == "greedy":
        cap = pool.capacity.astype(int).copy()
        order = np.argsort(-np.where(feasible, score, -1).ravel(), kind="stable")
        done = np.zeros(n, bool)
        pairs = []
        for k in order:
            i, j = divmod(int(k), m)
            if not feasible[i, j]:
                break
            if not done[i] and cap[j] > 0:
                done[i] = True
                cap[j] -= 1
                pairs.append((i, j))
        return pairs, score
    from scipy.optimize import linear_sum_assignment
    slots = np.repeat(np.arange(m), np.minimum(pool.capacity.astype(int), n))
    big = float(score.max(initial=0) + 1) * (n + 1)
    penalty = big if mode == "full" else 0.0  # cost of leaving a mentee without a mentor
    forbid = 4 * big + 1
    cost = np.where(feasible, -score, forbid)[:, slots]
    cost = np.hstack([cost, np.full((n, n), penalty)])
    rows, cols = linear_sum_assignment(cost)
    pairs = [(int(i), int(slots[c])) for i, c in zip(rows, cols) if c < len(slots) and feasible[i, slots[c]]]
    return pairs, score


def build_pool(store: Store, ids, *, cfg: MatchConfig, mentees: list[str] | None = None,
               role: str | None = None, today: date | None = None):
    """The people as a :class:`Pool`: mentees (with a target role and an open gap) and mentors (capacity > 0)."""
    today = today or date.today()
    ps = people(store)
    rs = roles(store)
    # every person's held levels from one evidence query
    levels: dict[str, dict[str, int]] = defaultdict(dict)
    for r in store.select("person_evidence"):
        age = _age(r["date"], today)
        lv = int(r["level"]) if age is None or age <= FRESH_DAYS else int(r["level"]) - 1
        d = levels[r["person"]]
        d[r["comp"]] = max(d.get(r["comp"], 0), lv)
    if mentees is not None:
        unknown = [m for m in mentees if m not in ps]
        if unknown:
            raise NotFound(f"no person {unknown[0]!r}", field="mentees")
        cand = [ps[m] for m in mentees]
    else:
        cand = [p for p in ps.values() if p.target_roles and not p.mentor_capacity]
    mentors = [p for p in ps.values() if p.mentor_capacity > 0]
    comp_index: dict[str, int] = {}
    labels: dict[str, tuple[str, str]] = {}
    req_cache: dict[str, dict] = {}
    mentee_rows = []
    for p in cand:
        target = role or (p.target_roles[0] if p.target_roles else None)
        if target is None or target not in rs:
            continue
        if target not in req_cache:
            req_cache[target] = requirements(store, target)
        held = levels.get(p.iri, {})
        if not held and p.kind == "learner":
            held = profile(store, ids, p.id, today=today).levels()
        gaps = [g for g in gap_items(req_cache[target], held) if g.open]
        for g in gaps:
            comp_index.setdefault(g.competency, len(comp_index))
            labels[g.competency] = (g.notation, g.label)
        mentee_rows.append((p, target, gaps))
    C = max(1, len(comp_index))
    gap_w = np.zeros((len(mentee_rows), C))
    gap_req = np.zeros((len(mentee_rows), C), dtype=int)
    for i, (_, _, gaps) in enumerate(mentee_rows):
        for g in gaps:
            gap_w[i, comp_index[g.competency]] = RELATION_WEIGHT[g.relation]
            gap_req[i, comp_index[g.competency]] = g.required_level
    mentor_lvl = np.zeros((len(mentors), C), dtype=int)
    for j, mp in enumerate(mentors):
        for comp, lv in levels.get(mp.iri, {}).items():
            if comp in comp_index:
                mentor_lvl[j, comp_index[comp]] = lv
    track_ok = np.array([[rs[t].track in mp.walked_tracks for mp in mentors] for _, t, _ in mentee_rows],
                        dtype=bool).reshape(len(mentee_rows), len(mentors))
    feasible = np.ones((len(mentee_rows), len(mentors)), dtype=bool)
    conflicts = {frozenset(c) for c in cfg.conflicts}
    for i, (p, _, _) in enumerate(mentee_rows):
        for j, mp in enumerate(mentors):
            ok = p.id != mp.id and frozenset((p.id, mp.id)) not in conflicts
            if cfg.department == "same":
                ok &= p.department == mp.department
            elif cfg.department == "different":
                ok &= p.department != mp.department
            if p.site and mp.site and p.site != mp.site:
                ok &= p.remote and mp.remote
            feasible[i, j] = ok
    pool = Pool(gap_w, gap_req, mentor_lvl, np.array([mp.mentor_capacity for mp in mentors]), track_ok, feasible)
    return pool, mentee_rows, mentors, levels, labels, comp_index


def match_mentors(store: Store, ids, *, mode: str = "best", cfg: MatchConfig | None = None,
                  mentees: list[str] | None = None, role: str | None = None, method: str = "lsa",
                  today: date | None = None) -> MatchResult:
    """Mentor matching over the whole pool, with an explanation for every match."""
    cfg = cfg or MatchConfig()
    if mode not in ("best", "full"):
        raise CareersError("mode must be best or full", field="mode")
    t0 = time.perf_counter()
    pool, mentee_rows, mentors, levels, labels, comp_index = build_pool(
        store, ids, cfg=cfg, mentees=mentees, role=role, today=today)
    pairs, score = assign(pool, cfg, mode, method)
    seconds = time.perf_counter() - t0
    cov = pool.coverage()
    rs = roles(store)
    matches = []
    load = defaultdict(int)
    matched = set()
    for i, j in pairs:
        p, target, gaps = mentee_rows[i]
        mp = mentors[j]
        mlv = levels.get(mp.iri, {})
        covers = tuple(MatchGap(g.notation, g.label, g.relation, g.required_level, g.held_level,
                                mlv.get(g.competency, 0)) for g in gaps if mlv.get(g.competency, 0) >= g.required_level)
        rules = []
        if cfg.department:
            rules.append(f"{cfg.department} department rule: {p.department} / {mp.department}")
        if p.site and mp.site and p.site != mp.site:
            rules.append("different sites: both accept remote mentoring")
        else:
            rules.append(f"same site ({p.site})" if p.site else "site not given")
        if cfg.conflicts:
            rules.append("no declared conflict")
        matches.append(Match(mentee=p.id, mentee_name=p.name, mentor=mp.id, mentor_name=mp.name, target_role=target,
                             score=round(float(score[i, j]), 4), coverage=round(float(cov[i, j]), 4), covers=covers,
                             not_covered=tuple(g.notation for g in gaps
                                               if g.notation not in {c.notation for c in covers}),
                             track=rs[target].track, track_match=bool(pool.track_ok[i, j]), rules=tuple(rules)))
        load[mp.id] += 1
        matched.add(i)
    matches.sort(key=lambda m: m.mentee)
    unmatched = []
    for i, (p, target, gaps) in enumerate(mentee_rows):
        if i in matched:
            continue
        if not gaps:
            reason = "no open gap to the target role"
        elif not pool.feasible[i].any():
            reason = "no mentor allowed by the rules (department, site/remote, conflicts)"
        elif mode == "best" and not (score[i] * pool.feasible[i] > 0).any():
            reason = "no allowed mentor covers any gap or the target track"
        else:
            reason = "mentor capacity is taken by better or necessary matches"
        unmatched.append({"mentee": p.id, "name": p.name, "target_role": target, "gaps": len(gaps), "reason": reason})
    total_slots = int(pool.capacity.sum())
    n = len(mentee_rows)
    summary = {"mentees": n, "mentors": len(mentors), "capacity": total_slots, "matched": len(matches),
               "participation_pct": round(100.0 * len(matches) / n, 1) if n else 0.0,
               "total_score": round(sum(m.score for m in matches), 3),
               "mean_coverage_pct": (round(100.0 * sum(m.coverage for m in matches) / len(matches), 1)
                                     if matches else 0.0),
               "seconds": round(seconds, 3),
               "weights": {"coverage": cfg.coverage_weight, "track": cfg.track_weight},
               "rules": {"department": cfg.department, "conflicts": len(cfg.conflicts),
                         "require_track": cfg.require_track, "remote": "different sites need both to accept remote"}}
    mentor_rows = tuple({"mentor": mp.id, "name": mp.name, "capacity": mp.mentor_capacity, "assigned": load[mp.id],
                         "offers": mp.mentor_offer, "department": mp.department} for mp in mentors)
    return MatchResult(mode=mode, method=method, matches=tuple(matches), unmatched=tuple(unmatched),
                       mentors=mentor_rows, summary=summary)


__all__ = ["Person", "people", "get_person", "profile", "Profile", "role_gap", "RoleGap", "development_plan", "Plan",
           "catalogue", "Opportunity", "solve_cover", "cover_matrix", "match_mentors", "MatchConfig", "MatchResult",
           "Pool", "assign", "CareersError", "FRESH_DAYS", "OBJECTIVES"]
