"""Query-side linear adapter on frozen sentence embeddings, trained on the repo's own curriculum pairs
(bundled MD objectives -> descriptions of their curator-linked HPC competencies). Evaluated on PCRS dev."""
import sys, csv
import numpy as np
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]; sys.path.insert(0, str(ROOT))
from bench.exp.objdev import metrics
from bench.exp.objdev2 import encs, comps, objs, qt
import torch
ref = [l.strip() for l in open(ROOT / "linking/reference_objectives.txt") if l.strip()]
hpc = {r["id"]: r for r in csv.DictReader(open(ROOT / "data/framework/hpc.csv")) if r["type"] in ("competency", "subcompetency")}
hids = [k for k in hpc if hpc[k]["description"]]
pairs = []
for r in csv.DictReader(open(ROOT / "data/curriculum/md.csv")):
    for c in [c.strip() for c in r["competencies"].split(";") if c.strip()]:
        if c in hids:
            pairs.append((r["objective_text"], hids.index(c)))
nrm = lambda X: X / np.linalg.norm(X, axis=1, keepdims=True)


def train(Qtr, Dh, y, steps, lr, wd, tau=0.05, seed=0):
    torch.manual_seed(seed)
    d = Qtr.shape[1]
    W = torch.zeros(d, d, requires_grad=True)
    opt = torch.optim.Adam([W], lr=lr)
    Q = torch.tensor(Qtr); Dt = torch.tensor(Dh); Y = torch.tensor(y)
    for _ in range(steps):
        q = Q + Q @ W
        q = q / q.norm(dim=1, keepdim=True)
        loss = torch.nn.functional.cross_entropy(q @ Dt.T / tau, Y) + wd * (W ** 2).sum()
        opt.zero_grad(); loss.backward(); opt.step()
    return W.detach().numpy()


for name, enc in encs.items():
    Q = enc.encode(qt); D = enc.encode([c["description"] for c in comps]); R = enc.encode(ref)
    Qtr = enc.encode([p[0] for p in pairs]); y = np.array([p[1] for p in pairs])
    Dh = enc.encode([hpc[k]["description"] for k in hids])
    print(name, "o10", metrics(Q @ D.T - 0.5 * (R @ D.T).mean(0), comps, objs), len(pairs))
    for steps, lr, wd in [(100, 1e-3, 1e-2), (200, 1e-3, 1e-2), (200, 1e-3, 1e-1), (300, 3e-3, 1e-2), (100, 1e-3, 1e-3)]:
        W = train(Qtr, Dh, y, steps, lr, wd)
        f = lambda X: nrm(X + X @ W)
        Qa, Ra = f(Q), f(R)
        S = Qa @ D.T
        print(name, f"adapter s{steps} lr{lr} wd{wd}", metrics(S, comps, objs), "+refc", metrics(S - 0.5 * (Ra @ D.T).mean(0), comps, objs), flush=True)
