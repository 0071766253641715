# ruff: noqa: E701, E702, E731
"""Issue 9 round 2: shared loaders and scorers over cached embeddings (run bench/exp/q9_cache.py first).

Everything is numpy on cached vectors: an adapter trains in ~2 s, a variant scores in < 1 s.
Dev gold is used only to score; MD -> HPC is scored 2-fold (adapter trained on the other fold)."""
import csv, json, sys
from functools import lru_cache
from pathlib import Path
import numpy as np
ROOT = Path(__file__).resolve().parents[2]; sys.path.insert(0, str(ROOT))
SH = ROOT.parent / "shared"
C = ROOT / "var/cache/embeddings"
nrm = lambda X: X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


@lru_cache(None)
def enc(name):
    from linking.encoder import load_minilm, load_mpnet
    return load_mpnet(cache_dir=C) if name == "mpnet" else load_minilm(cache_dir=C)


def E(name, texts):
    return enc(name).encode(list(texts))


@lru_cache(None)
def dev():
    comps = [json.loads(l) for l in open(SH / "bench/objective-linking/competencies.jsonl")]
    objs = [json.loads(l) for l in open(SH / "bench/objective-linking/objectives.jsonl")]
    return comps, objs


@lru_cache(None)
def md():
    comps = {}
    for r in csv.DictReader(open(ROOT / "data/framework/hpc.csv")):
        if r["type"] in ("competency", "subcompetency"):
            comps[r["id"]] = r
    qs = []
    for r in csv.DictReader(open(ROOT / "data/curriculum/md.csv")):
        gold = {c.strip() for c in r["competencies"].split(";") if c.strip()}
        if gold:
            qs.append((r["objective_text"], gold))
    return comps, qs


@lru_cache(None)
def ilios():
    comps = {r["id"]: r for r in csv.DictReader(open(SH / "frameworks/aamc_pcrs/pcrs_competencies.csv"))
             if r["is_other_catchall"] != "true"}
    qs = []
    for r in csv.DictReader(open(SH / "frameworks/ilios_sample_curriculum/ilios_demo_objectives.csv")):
        gold = {g for g in r["pcrs_ids"].split(";") if g in comps}
        if gold and r["objective_text"].strip():
            qs.append((r["objective_text"], gold))
    return comps, qs


def ref():
    return [l.strip() for l in open(ROOT / "linking/reference_objectives.txt") if l.strip()]


def curator_pairs():
    ps = [json.loads(l) for l in open(ROOT / "linking/adapter_pairs.jsonl")]
    return [(p["objective"], p["description"]) for p in ps]


def ranks(S, gold_idx):
    """1-based rank of the first gold column per row (gold_idx: list of sets of column indices)."""
    out = []
    for i, g in enumerate(gold_idx):
        order = np.argsort(-S[i], kind="stable")
        out.append(next((k for k, j in enumerate(order, 1) if j in g), 10**6))
    return np.array(out)


def summ(r, k=(1, 3)):
    return tuple(round(float((r <= kk).mean()), 3) for kk in k) + (round(float((1 / r).mean()), 3),)


def score_dev(S):
    comps, objs = dev()
    uri = {c["uri"]: i for i, c in enumerate(comps)}
    r = ranks(S, [{uri[g] for g in o["gold"]} for o in objs])
    hard = np.array([bool(o.get("hard")) for o in objs])
    return {"all": summ(r), "hard": summ(r[hard])}


def train(sets, dim, steps=100, lr=1e-3, wd=1e-2, tau=0.05, seed=0):
    """sets: [(Q, D, y, weight)]: contrastive loss of adapted Q against candidate descriptions D."""
    import torch
    torch.manual_seed(seed)
    W = torch.zeros(dim, dim, requires_grad=True)
    opt = torch.optim.Adam([W], lr=lr)
    ts = [(torch.tensor(q), torch.tensor(d), torch.tensor(y), wt) for q, d, y, wt in sets]
    for _ in range(steps):
        loss = wd * (W ** 2).sum()
        for q, d, y, wt in ts:
            a = q + q @ W
            a = a / a.norm(dim=1, keepdim=True)
            loss = loss + wt * torch.nn.functional.cross_entropy(a @ d.T / tau, y)
        opt.zero_grad(); loss.backward(); opt.step()
    return W.detach().numpy().astype(np.float32)


def pairset(name, pairs):
    descs = list(dict.fromkeys(d for _, d in pairs))
    ix = {d: i for i, d in enumerate(descs)}
    return E(name, [q for q, _ in pairs]), E(name, descs), np.array([ix[d] for _, d in pairs])


def adapt(X, W):
    return X if W is None else nrm(X + X @ W)


def scorer(name, W, cw=0.5):
    """Descriptions-profile scores for a catalogue: f(q) . d - cw * mean_ref(f(r) . d)."""
    R = adapt(E(name, ref()), W)
    def s(Q, D):
        return adapt(Q, W) @ D.T - cw * (R @ D.T).mean(0)
    return s


def eval_all(name, W, cw=0.5, md_cv=None):
    comps, objs = dev()
    s = scorer(name, W, cw)
    out = {"dev": score_dev(s(E(name, [o["text"] for o in objs]), E(name, [c["description"] for c in comps])))}
    ic, iq = ilios()
    ids = list(ic)
    S = s(E(name, [q for q, _ in iq]), E(name, [ic[k]["description"] for k in ids]))
    r = ranks(S, [{ids.index(g) for g in gold} for _, gold in iq])
    out["ilios"] = summ(r, (1, 5))
    if md_cv is not None:  # md_cv(train_pairs) -> W for that fold
        mc, mq = md()
        ids = [k for k in mc if mc[k]["description"]]
        D = E(name, [mc[k]["description"] for k in ids])
        rs = []
        for f in range(2):
            test = [q for i, q in enumerate(mq) if i % 2 == f]
            trn = [q for i, q in enumerate(mq) if i % 2 != f]
            pairs = [(q, mc[g]["description"]) for q, gold in trn for g in sorted(gold) if mc[g]["description"]]
            Wf = md_cv(pairs)
            sf = scorer(name, Wf, cw)
            rs.append(ranks(sf(E(name, [q for q, _ in test]), D), [{ids.index(g) for g in gold if g in ids} for _, gold in test]))
        out["md2f"] = summ(np.concatenate(rs), (1, 5))
    return out


def ilios_split(name, W, cw=0.5):
    """Ilios -> PCRS split: the 404 objectives whose weak gold is exactly {c0201, c0310} (inherited from UCSF's
    "Medical Knowledge" program-year competency) and the rest; plus domain-level acc@1 (top-1 in a gold domain)."""
    ic, iq = ilios(); ids = list(ic)
    S = scorer(name, W, cw)(E(name, [q for q, _ in iq]), E(name, [ic[k]["description"] for k in ids]))
    r = ranks(S, [{ids.index(g) for g in gold} for _, gold in iq])
    mk = np.array([gold == {"aamc-pcrs-comp-c0201", "aamc-pcrs-comp-c0310"} for _, gold in iq])
    top = S.argmax(1)
    dom = np.mean([ids[t][-4:-2] in {g[-4:-2] for g in gold} for t, (_, gold) in zip(top, iq)])
    c0202 = np.mean([ids[t] == "aamc-pcrs-comp-c0202" for t in top[mk]])
    return {"mk": summ(r[mk], (1, 5)), "rest": summ(r[~mk], (1, 5)), "domain@1": round(float(dom), 3),
            "mk_top1_c0202": round(float(c0202), 3)}


@lru_cache(None)
def esco_skills(kind=None):
    rows = [r for r in csv.DictReader(open(SH / "frameworks/esco_1_1_1_health/skills.csv")) if r["description"].strip()]
    return [r for r in rows if kind is None or r["skill_type"] == kind]
