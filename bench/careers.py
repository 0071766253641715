#!/usr/bin/env python3
"""Careers benchmarks: development plans (MILP vs greedy) and mentor matching at scale.

1. Plans: every bundled person x every role (data/manifest.json), gap closed by the catalogue at the
   least hours, with scipy's MILP and with the greedy weighted set cover (cheapest hours per newly
   closed gap first): total hours, gaps closed, how often MILP is strictly better, solve time.
2. Matching: a synthetic, seeded pool of 1,000 mentees x 300 mentors (60 competencies, capacities
   2-5, 10 departments, 3 sites with remote flags, 500 conflict pairs): exact assignment
   (linear_sum_assignment with capacity expansion) vs greedy, in both modes (best total match, full
   participation): participation, total score, total gap coverage, run time (target <= 2 s).

Writes bench/results/careers.json.  Usage: nice python bench/careers.py
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ontology import careers as C  # noqa: E402
from ontology import mentoring as M  # noqa: E402


def bench_plans() -> dict:
    from service.config import Config
    from service.workspace import Workspace

    cfg = Config()
    cfg.STORE_PATH = ""
    ws = Workspace.from_config(cfg)
    ws.load_manifest(ROOT / "data" / "manifest.json")
    items = C.catalogue(ws.store)
    roles = sorted(C.roles(ws.store))
    rows = []
    for pid in sorted(C.people(ws.store)):
        prof = C.profile(ws.store, ws.ids, pid)
        for role in roles:
            gap = C.role_gap(ws.store, ws.ids, pid, role, prof=prof)
            gaps = list(gap.gaps)
            if not gaps:
                continue
            out = {}
            for method in ("milp", "greedy"):
                t0 = time.perf_counter()
                sol, chosen, open_gaps = C.plan_for_gaps(gaps, items, "hours", method)
                out[method] = {"hours": sum(c.opportunity.hours for c in chosen), "items": len(chosen),
                               "closed": len(gaps) - len(open_gaps), "seconds": time.perf_counter() - t0}
            assert out["milp"]["closed"] == out["greedy"]["closed"]
            rows.append({"person": pid, "role": role, "gaps": len(gaps), **out})
    m = [r["milp"]["hours"] for r in rows]
    g = [r["greedy"]["hours"] for r in rows]
    better = [r for r in rows if r["milp"]["hours"] < r["greedy"]["hours"] - 1e-9]
    worse = [r for r in rows if r["milp"]["hours"] > r["greedy"]["hours"] + 1e-9]
    return {
        "cases": len(rows), "people": len({r["person"] for r in rows}), "roles": len(roles),
        "catalogue_items": len(items),
        "gaps_total": sum(r["gaps"] for r in rows),
        "gaps_closed": sum(r["milp"]["closed"] for r in rows),
        "milp_hours_total": round(sum(m), 1), "greedy_hours_total": round(sum(g), 1),
        "hours_saved_pct": round(100.0 * (sum(g) - sum(m)) / sum(g), 2) if sum(g) else 0.0,
        "milp_strictly_better_cases": len(better), "milp_worse_cases": len(worse),
        "max_saving_hours": round(max((r["greedy"]["hours"] - r["milp"]["hours"] for r in rows), default=0), 1),
        "milp_items_mean": round(statistics.mean(r["milp"]["items"] for r in rows), 2),
        "greedy_items_mean": round(statistics.mean(r["greedy"]["items"] for r in rows), 2),
        "milp_seconds_median": round(statistics.median(r["milp"]["seconds"] for r in rows), 4),
        "milp_seconds_max": round(max(r["milp"]["seconds"] for r in rows), 4),
        "greedy_seconds_median": round(statistics.median(r["greedy"]["seconds"] for r in rows), 4),
        "example": next((r for r in sorted(better, key=lambda r: r["milp"]["hours"] - r["greedy"]["hours"])), None),
    }


def synthetic_pool(n=1000, m=300, comps=60, seed=2026):
    rng = np.random.default_rng(seed)
    gap_w = np.zeros((n, comps))
    gap_req = np.zeros((n, comps), dtype=int)
    for i in range(n):
        k = rng.integers(6, 14)
        cs = rng.choice(comps, k, replace=False)
        gap_w[i, cs] = np.where(rng.random(k) < 0.75, 1.0, 0.5)  # essential / optional
        gap_req[i, cs] = rng.integers(3, 6, k)
    mentor_lvl = np.clip(rng.normal(3.3, 1.1, (m, comps)).round(), 0, 5).astype(int)
    capacity = rng.integers(2, 6, m)
    dept_e, dept_m = rng.integers(0, 10, n), rng.integers(0, 10, m)
    site_e, site_m = rng.integers(0, 3, n), rng.integers(0, 3, m)
    remote_e, remote_m = rng.random(n) < 0.7, rng.random(m) < 0.6
    feasible = (site_e[:, None] == site_m[None, :]) | (remote_e[:, None] & remote_m[None, :])
    for _ in range(500):  # declared conflicts
        feasible[rng.integers(n), rng.integers(m)] = False
    track_ok = rng.random((n, m)) < 0.3
    return M.Pool(gap_w, gap_req, mentor_lvl, capacity, track_ok, feasible), dept_e, dept_m


def bench_matching() -> dict:
    pool, dept_e, dept_m = synthetic_pool()
    cfg = M.MatchConfig()
    total_w = pool.gap_w.sum()
    out = {"mentees": int(pool.gap_w.shape[0]), "mentors": int(pool.mentor_lvl.shape[0]),
           "capacity": int(pool.capacity.sum()), "feasible_pairs_pct": round(100.0 * pool.feasible.mean(), 1)}
    for rule in ("none", "same_department"):
        p = pool
        if rule == "same_department":
            p = M.Pool(pool.gap_w, pool.gap_req, pool.mentor_lvl, pool.capacity, pool.track_ok,
                       pool.feasible & (dept_e[:, None] == dept_m[None, :]))
        cov = p.coverage()
        for mode in ("best", "full"):
            for method in ("lsa", "greedy"):
                runs = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    pairs, score = M.assign(p, cfg, mode, method)
                    runs.append(time.perf_counter() - t0)
                covered_w = sum(cov[i, j] * p.gap_w[i].sum() for i, j in pairs)
                out[f"{rule}/{mode}/{method}"] = {
                    "matched": len(pairs), "participation_pct": round(100.0 * len(pairs) / p.gap_w.shape[0], 1),
                    "total_score": round(float(sum(score[i, j] for i, j in pairs)), 2),
                    "gap_coverage_pct": round(100.0 * covered_w / total_w, 2),
                    "seconds_median": round(statistics.median(runs), 3)}
    return out


def main():
    t0 = time.time()
    res = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
           "plans": bench_plans(), "matching": bench_matching()}
    res["seconds"] = round(time.time() - t0, 1)
    path = ROOT / "bench" / "results" / "careers.json"
    path.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
