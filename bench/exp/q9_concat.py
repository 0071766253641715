# ruff: noqa: F401, F403, F405, E701, E702, E731
"""One adapter over the concatenated [mpnet, MiniLM] vectors (a learned fusion) vs score fusion; dev + MD 2-fold."""
import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp import q9lib as L
from bench.exp.q9lib import *
def Ecat(name, texts, w=0.3):
    a = E("mpnet", texts); b = E("minilm", texts)
    return np.hstack([np.sqrt(1 - w) * a, np.sqrt(w) * b]).astype(np.float32)
L.E = lambda name, texts: Ecat(name, texts) if name == "cat" else E(name, texts)
import bench.exp.q9lib as M; M.E = L.E
cv = lambda p: train([pairset("cat", p) + (1.0,)], 1152)
W = train([pairset("cat", curator_pairs()) + (1.0,)], 1152)
print("concat adapter", eval_all("cat", W, 0.5, md_cv=cv), flush=True)
