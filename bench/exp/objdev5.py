"""Embedding-space centring and sibling contrast (issue 9 experiments)."""
import sys
import numpy as np
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]; sys.path.insert(0, str(ROOT))
from bench.exp.objdev import metrics
from bench.exp.objdev2 import encs, comps, objs, qt, gi
ref = [l.strip() for l in open(ROOT / "linking/reference_objectives.txt") if l.strip()]
nrm = lambda X: X / np.linalg.norm(X, axis=1, keepdims=True)
for name, enc in encs.items():
    Q = enc.encode(qt); D = enc.encode([c["description"] for c in comps]); R = enc.encode(ref)
    mu = (R @ D.T).mean(0)
    print(name, "o10", metrics(Q @ D.T - 0.5 * mu, comps, objs))
    for a in (0.5, 1.0):
        Qc = nrm(Q - a * R.mean(0)); Dc = nrm(D - a * D.mean(0))
        S = Qc @ Dc.T
        print(name, f"space-centre a{a}", metrics(S, comps, objs), "+refc", metrics(S - 0.5 * (nrm(R - a * R.mean(0)) @ Dc.T).mean(0), comps, objs))
        Qc = nrm(Q - a * R.mean(0)); Dc = nrm(D - a * R.mean(0))
        S = Qc @ Dc.T
        print(name, f"ref-centre both a{a}", metrics(S, comps, objs))
    for b in (0.3, 0.5):
        G = np.stack([D[gi == g].mean(0) for g in range(gi.max() + 1)])[gi]
        Ds = nrm(D - b * G)
        S = Q @ Ds.T
        print(name, f"sibling-contrast b{b}", metrics(S, comps, objs), "+refc", metrics(S - 0.5 * (R @ Ds.T).mean(0), comps, objs))
