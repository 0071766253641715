#!/usr/bin/env python3
"""Measure the score -> expected precision mapping on the dev sets (HOUSE + TECH).

    .venv/bin/python bench/calibrate.py        -> bench/results/calibration.json + knots to paste

Every top-10 suggestion of every dev sentence is one observation (score, is it a gold link?).
An isotonic (monotone) regression of correctness on score is fitted, then read off at fixed score
knots; engine.CALIBRATION holds those knots.  Gold sets are incomplete (annotators linked 1-5 skills
per sentence), so these are lower bounds of the real precision.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "bench" / "skill-linking"
OUT = ROOT / "bench" / "results" / "calibration.json"
KNOTS = (0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95)


def main() -> int:
    if not (DATA / "esco_skills.jsonl").exists():
        print(f"SKIP: {DATA} not found")
        return 0
    from sklearn.isotonic import IsotonicRegression

    from linking.engine import Linker, encoder_for, expected_precision, profile_for
    from loaders.linkfiles import read_competencies

    comps = read_competencies(DATA / "esco_skills.jsonl")
    linker = Linker(comps, config=profile_for(comps, "link", "labels")[1],  # what `gapmap link` ranks with
                    encoder=encoder_for("labels", "link"))
    xs, ys, rank1 = [], [], []
    for s in ("house", "tech"):
        rows = [json.loads(line) for line in open(DATA / f"{s}.jsonl", encoding="utf-8") if line.strip()]
        res = linker.rank([r["text"] for r in rows], top_k=10)
        for r, ms in zip(rows, res):
            g = set(r["gold"])
            for i, m in enumerate(ms):
                xs.append(m.score)
                ys.append(1.0 if m.uri in g else 0.0)
                rank1.append(i == 0)
    xs, ys, rank1 = np.array(xs), np.array(ys), np.array(rank1)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(xs, ys)
    knots = [(k, round(float(iso.predict([k])[0]), 3)) for k in KNOTS]
    bins = []
    edges = np.quantile(xs, np.linspace(0, 1, 11))
    for a, b in zip(edges[:-1], edges[1:]):
        sel = (xs >= a) & (xs <= b)
        bins.append({"score_from": round(float(a), 3), "score_to": round(float(b), 3), "n": int(sel.sum()),
                     "precision": round(float(ys[sel].mean()), 3),
                     "current_mapping": round(float(np.mean([expected_precision(x) for x in xs[sel]])), 3)})
    res = {"model_version": linker.model_version, "config": linker.config.tag(), "observations": len(xs),
           "overall_precision_top10": round(float(ys.mean()), 3),
           "top1_precision": round(float(ys[rank1].mean()), 3), "knots": knots, "deciles": bins}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1))
    print("CALIBRATION = (" + ", ".join(f"({k:.2f}, {v:.3f})" for k, v in knots) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
