# ruff: noqa: F401, F403, F405, E701, E702, E731
import sys; from pathlib import Path; sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.exp.q9lib import *
Wc = train([pairset("mpnet", curator_pairs()) + (1.0,)], 768)
for tag, W, cw in [("plain", None, 0.0), ("centre", None, 0.5), ("adapter", Wc, 0.0), ("a2", Wc, 0.5)]:
    print(tag, ilios_split("mpnet", W, cw), flush=True)
Wm = train([pairset("minilm", curator_pairs()) + (1.0,)], 384)
for tag, W, cw in [("minilm plain", None, 0.0), ("minilm a2", Wm, 0.5)]:
    print(tag, ilios_split("minilm", W, cw), flush=True)
