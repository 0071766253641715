"""Adapter variants (issue 9): data, temperature, both sides, ensemble.  PCRS dev, scored only."""
import sys
import numpy as np
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]; sys.path.insert(0, str(ROOT))
from bench.exp.objdev import metrics
from bench.exp.objdev2 import encs, comps, objs, qt
from bench.exp.adapter import train, pairs, hpc, hids, nrm, ref
res = {}
for name, enc in encs.items():
    Q = enc.encode(qt); D = enc.encode([c["description"] for c in comps]); R = enc.encode(ref)
    Qtr = enc.encode([p[0] for p in pairs]); y = np.array([p[1] for p in pairs])
    Dh = enc.encode([hpc[k]["description"] for k in hids])
    # extra pairs: labels and alt labels -> description
    ext = [(hpc[k]["label"], i) for i, k in enumerate(hids)] + [(a.strip(), i) for i, k in enumerate(hids) for a in hpc[k]["alt_labels"].split("|") if a.strip()]
    Qx = np.vstack([Qtr, enc.encode([e[0] for e in ext])]); yx = np.concatenate([y, [e[1] for e in ext]])
    def ev(tag, W, both=False):
        f = lambda X: nrm(X + X @ W)
        Dd = f(D) if both else D
        S = f(Q) @ Dd.T
        S2 = S - 0.5 * (f(R) @ Dd.T).mean(0)
        print(name, tag, metrics(S, comps, objs), "+refc", metrics(S2, comps, objs), flush=True)
        return S2
    res[name] = ev("base s100", train(Qtr, Dh, y, 100, 1e-3, 1e-2))
    ev("tau0.1", train(Qtr, Dh, y, 100, 1e-3, 1e-2, tau=0.1))
    ev("tau0.02", train(Qtr, Dh, y, 100, 1e-3, 1e-2, tau=0.02))
    ev("+labels/alt pairs", train(Qx, Dh, yx, 100, 1e-3, 1e-2))
    ev("s50", train(Qtr, Dh, y, 50, 1e-3, 1e-2))
    ev("both sides", train(Qtr, Dh, y, 100, 1e-3, 1e-2), both=True)
    ev("seed1", train(Qtr, Dh, y, 100, 1e-3, 1e-2, seed=1))
for w in (0.3, 0.5):
    print("ens minilm w", w, metrics((1 - w) * res["mpnet"] + w * res["minilm"], comps, objs))
