import sys, re
import numpy as np
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]; sys.path.insert(0, str(ROOT))
from bench.exp.objdev import load, metrics
from linking.encoder import load_minilm, Encoder, EmbeddingCache

def mpnet():
    e = Encoder("/tmp/align_dl/models/all-mpnet-base-v2", "mpnet-exp", use_cache=False)
    e.dim = 768
    e.cache = EmbeddingCache(ROOT / "var/cache/embeddings", "mpnet-exp", 768)
    return e

comps, objs = load()
qt = [o["text"] for o in objs]
encs = {"minilm": load_minilm(cache_dir=ROOT / "var/cache/embeddings"), "mpnet": mpnet()}
grp = [re.sub(r"[\s\d.\-:]+$", "", c["label"]).strip() for c in comps]
gids = {g: i for i, g in enumerate(dict.fromkeys(grp))}
gi = np.array([gids[g] for g in grp])
for name, enc in encs.items():
    Q = enc.encode(qt); D = enc.encode([c["description"] for c in comps])
    S = Q @ D.T
    print(name, "desc", metrics(S, comps, objs))
    # column centering by batch mean
    for w in (0.5, 1.0):
        print(name, f"colcenter {w}", metrics(S - w * S.mean(0), comps, objs))
    z = (S - S.mean(0)) / S.std(0)
    print(name, "colz", metrics(z, comps, objs))
    print(name, "0.5 z + raw", metrics(S + 0.05 * z, comps, objs))
    # hubness vs catalogue: mean sim of each desc to the other descs
    DD = D @ D.T; np.fill_diagonal(DD, np.nan)
    hub = np.nanmean(np.sort(DD, 1)[:, -11:-1], 1)
    for w in (0.3, 0.5):
        print(name, f"hub desc w{w}", metrics(S - w * hub, comps, objs))
    # CSLS with query batch: r_c = mean of top-10 query sims
    rc = np.sort(S, 0)[-10:].mean(0)
    for w in (0.5, 1.0):
        print(name, f"csls-q w{w}", metrics(S - w * rc, comps, objs))
    # group centroid of descriptions
    C = np.stack([D[gi == g].mean(0) for g in range(len(gids))]); C /= np.linalg.norm(C, axis=1, keepdims=True)
    G = (Q @ C.T)[:, gi]
    for w in (0.2, 0.5):
        print(name, f"groupcentroid w{w}", metrics(S + w * G, comps, objs))
        print(name, f"groupcentroid w{w} + colcenter", metrics(S + w * G - S.mean(0) - w * G.mean(0), comps, objs))
    np.save(f"/tmp/align_dl/S_{name}.npy", S)
