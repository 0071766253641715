import sys, csv
import numpy as np
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]; sys.path.insert(0, str(ROOT))
from bench.exp.objdev import metrics
from bench.exp.objdev2 import encs, comps, objs, qt
ref = [r["objective_text"] for r in csv.DictReader(open(ROOT / "data/curriculum/md.csv"))]
res = {}
for name, enc in encs.items():
    Q = enc.encode(qt); D = enc.encode([c["description"] for c in comps]); R = enc.encode(ref)
    mu = (R @ D.T).mean(0)
    S = Q @ D.T
    base = S - 0.5 * mu
    print(name, "base", metrics(base, comps, objs))
    RD = R @ D.T
    for k in (3, 5, 10):
        for b in (0.3, 0.5, 1.0):
            idx = np.argsort(-RD, 0)[:k]           # k nearest ref objectives per competency
            E = R[idx].mean(0); E /= np.linalg.norm(E, axis=1, keepdims=True)
            X = S + b * (Q @ E.T); muX = mu + b * (R @ E.T).mean(0)
            print(name, f"prf-cat k{k} b{b}", metrics(X - 0.5 * muX, comps, objs))
    # query-side PRF: softmax-weighted desc mixture
    for t in (0.05,):
        for b in (0.3, 0.5):
            W = np.exp((S - S.max(1, keepdims=True)) / t); W /= W.sum(1, keepdims=True)
            Q2 = Q + b * (W @ D); Q2 /= np.linalg.norm(Q2, axis=1, keepdims=True)
            S2 = Q2 @ D.T
            print(name, f"prf-q t{t} b{b}", metrics(S2 - 0.5 * mu, comps, objs))
