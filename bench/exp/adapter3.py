"""Adapter + self-supervised pairs from the target catalogue itself (description clauses -> description)."""
import sys
import numpy as np
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]; sys.path.insert(0, str(ROOT))
from bench.exp.objdev import metrics, load
from linking.encoder import load_mpnet
from linking.engine import segments
import json, torch
comps, objs = load(); qt = [o["text"] for o in objs]
enc = load_mpnet(cache_dir=ROOT / "var/cache/embeddings")
ref = [l.strip() for l in open(ROOT / "linking/reference_objectives.txt") if l.strip()]
pairs = [json.loads(l) for l in open(ROOT / "linking/adapter_pairs.jsonl")]
nrm = lambda X: X / np.linalg.norm(X, axis=1, keepdims=True)
descs_h = list(dict.fromkeys(p["description"] for p in pairs))
Qh = enc.encode([p["objective"] for p in pairs]); Dh = enc.encode(descs_h); yh = np.array([descs_h.index(p["description"]) for p in pairs])
D = enc.encode([c["description"] for c in comps]); Q = enc.encode(qt); R = enc.encode(ref)
cl, yc = [], []
for i, c in enumerate(comps):
    d = c["description"]
    for a, b in segments(d):
        if len(d[a:b].split()) >= 3:
            cl.append(d[a:b]); yc.append(i)
print(len(cl), "clauses")
C = enc.encode(cl); yc = np.array(yc)

def train(sets, steps=100, lr=1e-3, wd=1e-2, tau=0.05):
    torch.manual_seed(0)
    W = torch.zeros(768, 768, requires_grad=True); opt = torch.optim.Adam([W], lr=lr)
    for _ in range(steps):
        loss = wd * (W ** 2).sum()
        for q, d, y, wt in sets:
            q = torch.tensor(q); a = q + q @ W; a = a / a.norm(dim=1, keepdim=True)
            loss = loss + wt * torch.nn.functional.cross_entropy(a @ torch.tensor(d).T / tau, torch.tensor(y))
        opt.zero_grad(); loss.backward(); opt.step()
    return W.detach().numpy()

def ev(tag, W):
    f = lambda X: nrm(X + X @ W)
    S = f(Q) @ D.T - 0.5 * (f(R) @ D.T).mean(0)
    print(tag, metrics(S, comps, objs), flush=True)

ev("md only", train([(Qh, Dh, yh, 1.0)]))
for wt in (0.3, 1.0):
    ev(f"md + catalogue clauses w{wt}", train([(Qh, Dh, yh, 1.0), (C, D, yc, wt)]))
ev("catalogue clauses only", train([(C, D, yc, 1.0)]))
