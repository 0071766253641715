# ruff: noqa: F401, F403, F405, E701, E702, E731
"""Reproduce the shipped descriptions profile (a2) on cached vectors and take Ilios apart: plain / +centring /
+adapter, per objective length (Ilios objectives are short topics)."""
import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp.q9lib import *
for name in sys.argv[1:] or ["mpnet"]:
    dim = 768 if name == "mpnet" else 384
    Wc = train([pairset(name, curator_pairs()) + (1.0,)], dim)
    cv = lambda p: train([pairset(name, p) + (1.0,)], dim)
    for tag, W, cw in [("plain", None, 0.0), ("centre", None, 0.5), ("adapter", Wc, 0.0), ("a2", Wc, 0.5)]:
        print(name, tag, eval_all(name, W, cw, md_cv=(cv if W is not None else None)), flush=True)
