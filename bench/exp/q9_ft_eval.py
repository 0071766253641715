# ruff: noqa: F401, F403, F405, E701, E702, E731
"""MiniLM fine-tuned on the bundled curriculum pairs (bench/exp/ft_curriculum.py, ENC=minilm STEPS=80 BS=32
LR=3e-5) as the second member of the fused descriptions profile, in place of the stock MiniLM."""
import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp import q9lib as L
from bench.exp.q9lib import *
from linking.encoder import load_local
ft = load_local(sys.argv[1] if len(sys.argv) > 1 else "/tmp/q9/ft-minilm", cache_dir=C)
_E = L.E
L.E = lambda name, texts: ft.encode(list(texts)) if name == "ft" else _E(name, texts)
import bench.exp.q9lib as M; M.E = L.E
comps, objs = dev(); qt = [o["text"] for o in objs]; dt = [c["description"] for c in comps]
Ws = {n: train([pairset(n, curator_pairs()) + (1.0,)], d) for n, d in (("mpnet", 768), ("minilm", 384), ("ft", 384))}
S = {n: scorer(n, Ws[n])(L.E(n, qt), L.E(n, dt)) for n in Ws}
S0 = {n: scorer(n, None)(L.E(n, qt), L.E(n, dt)) for n in ("ft",)}
print("ft, adapter+centre", score_dev(S["ft"])); print("ft, centre only", score_dev(S0["ft"]))
print("fused mpnet+minilm", score_dev(0.7 * S["mpnet"] + 0.3 * S["minilm"]))
for w in (0.3, 0.5):
    print("fused mpnet+ft", w, score_dev((1 - w) * S["mpnet"] + w * S["ft"]), flush=True)
print("ilios ft", ilios_split("ft", Ws["ft"]))
