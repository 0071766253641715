#!/usr/bin/env python3
"""An independent check of `gapmap link`'s shortlist: ESCO occupation descriptions -> their essential skills.

    .venv/bin/python bench/link_occupations.py

The HOUSE/TECH dev sets chose the method; this set did not: the 129 health occupations of
``../shared/frameworks/esco_1_1_1_health`` (ESCO v1.1.1), each description ranked against the 13.5k-skill
catalogue of ``../shared/bench/skill-linking``, gold = the occupation's essential skills found in that catalogue
(~33 each, so precision at K rather than recall).  Exact product and shortlist side by side.  Writes
``bench/results/link_occupations.json``; skips with a message when ``../shared`` is absent.
"""
from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
CATALOGUE = SHARED / "bench" / "skill-linking" / "esco_skills.jsonl"
HEALTH = SHARED / "frameworks" / "esco_1_1_1_health"
OUT = ROOT / "bench" / "results" / "link_occupations.json"


def main() -> int:
    if not CATALOGUE.exists() or not (HEALTH / "occupations.csv").exists():
        print(f"SKIP: {CATALOGUE} or {HEALTH} not found (../shared is beside the repo on team machines and CI)")
        return 0
    from linking.encoder import default_encoder, resolve_precision
    from linking.engine import Linker, LinkerConfig
    from loaders.linkfiles import read_competencies

    comps = read_competencies(CATALOGUE)
    uris = {c.uri for c in comps}
    gold: dict[str, set[str]] = {}
    with open(HEALTH / "occupation_skill_relations.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["relation_type"] == "essential" and r["skill_uri"] in uris:
                gold.setdefault(r["occupation_uri"], set()).add(r["skill_uri"])
    with open(HEALTH / "occupations.csv", newline="", encoding="utf-8") as f:
        rows = [(o["description"], gold[o["uri"]]) for o in csv.DictReader(f)
                if o["uri"] in gold and o["description"].strip()]
    enc = default_encoder()
    res: dict = {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "occupations": len(rows),
                 "gold_per_occupation": round(sum(len(g) for _, g in rows) / len(rows), 1), "methods": {}}
    runs = [("exact product", LinkerConfig(), enc), ("shortlist 300", LinkerConfig(shortlist=300), enc)]
    if resolve_precision("auto") == "bf16":  # what `gapmap link` runs on this CPU (GAPMAP_LINK_PRECISION=auto)
        runs.append(("shortlist 300, bf16 (gapmap link)", LinkerConfig(shortlist=300), default_encoder(precision="bf16")))
    for name, cfg, e in runs:
        linker = Linker(comps, config=cfg, encoder=e)
        t0 = time.perf_counter()
        ranked = linker.rank([t for t, _ in rows], top_k=20)
        m = {f"P@{k}": round(100 * sum(sum(x.uri in g for x in r[:k]) / k for r, (_, g) in zip(ranked, rows))
                             / len(rows), 2) for k in (5, 10, 20)}
        m["MRR"] = round(100 * sum(next((1 / i for i, x in enumerate(r, 1) if x.uri in g), 0.0)
                                   for r, (_, g) in zip(ranked, rows)) / len(rows), 2)
        m["rank_seconds"] = round(time.perf_counter() - t0, 2)
        res["methods"][name] = m
        print(f"{name:30s} " + "  ".join(f"{k} {v}" for k, v in m.items()), flush=True)
    res["model_version"] = linker.model_version
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
