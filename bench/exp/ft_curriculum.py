#!/usr/bin/env python3
"""Experiment: fine-tune a sentence encoder on curriculum pairs from the repo's own data (bundled MD objectives ->
descriptions of their curator-linked HPC competencies, plus HPC label/alt label -> description), then score the
PCRS dev set with the descriptions profile.  Nothing from PCRS or the dev set is trained on.

    ENC=minilm|mpnet STEPS=60 LR=2e-5 BS=16 OUT=/tmp/x bench/exp/ft_curriculum.py
"""
import csv, os, random, sys, time
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]; sys.path.insert(0, str(ROOT))


def pairs():
    comps = {}
    for r in csv.DictReader(open(ROOT / "data/framework/hpc.csv", newline="")):
        if r["type"] in ("competency", "subcompetency"):
            comps[r["id"]] = r
    out = []
    for r in csv.DictReader(open(ROOT / "data/curriculum/md.csv", newline="")):
        for c in [c.strip() for c in r["competencies"].split(";") if c.strip()]:
            if c in comps and comps[c]["description"]:
                out.append((r["objective_text"], comps[c]["description"], c))
    for cid, r in comps.items():
        if not r["description"]:
            continue
        out.append((r["label"], r["description"], cid))
        for a in [a.strip() for a in r["alt_labels"].split("|") if a.strip()]:
            out.append((a, r["description"], cid))
    return out


def train(enc_name, steps, lr, bs, out_dir, seed=13):
    import numpy as np, torch
    from sentence_transformers import SentenceTransformer
    from linking.encoder import minilm_path, mpnet_path
    torch.manual_seed(seed); np.random.seed(seed); rng = random.Random(seed)
    torch.set_num_threads(2)
    path = mpnet_path() if enc_name == "mpnet" else minilm_path()
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    base = model.max_seq_length
    model.max_seq_length = 64
    model.train()
    P = pairs()
    params = [p for n, p in model.named_parameters() if ".embeddings." not in n]
    for n, p in model.named_parameters():
        if ".embeddings." in n:
            p.requires_grad_(False)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    ce = torch.nn.CrossEntropyLoss()
    t0 = time.time(); step = 0; order = []
    while step < steps:
        if not order:
            order = list(range(len(P))); rng.shuffle(order)
        batch, seen = [], set()
        while order and len(batch) < bs:
            a, p, c = P[order.pop()]
            if c in seen:
                continue
            seen.add(c); batch.append((a, p))
        if len(batch) < 2:
            continue
        fa = model.preprocess([a for a, _ in batch]); fp = model.preprocess([p for _, p in batch])
        ea = torch.nn.functional.normalize(model(fa)["sentence_embedding"], dim=-1)
        ep = torch.nn.functional.normalize(model(fp)["sentence_embedding"], dim=-1)
        sim = ea @ ep.T * 20.0
        lab = torch.arange(len(batch))
        loss = (ce(sim, lab) + ce(sim.T, lab)) / 2
        opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step(); sched.step()
        step += 1
        if step % 10 == 0:
            print(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s", flush=True)
    model.eval(); model.max_seq_length = base
    model.save(str(out_dir))
    return time.time() - t0


def evaluate(model_dir, dim):
    from linking.encoder import Encoder
    from linking.engine import DESCRIPTIONS, CompetencyText, Linker
    from bench.objective_linking import load_dev, metrics
    comps, objs = load_dev()
    items = [CompetencyText(c["uri"], c["label"], (), c["description"]) for c in comps]
    enc = Encoder(model_dir, f"exp-{Path(model_dir).name}-{time.time()}", dim=dim, use_cache=False, max_seq_length=384)
    for w in (0.0, 0.5):
        from dataclasses import replace
        lk = Linker(items, config=replace(DESCRIPTIONS, center_weight=w), encoder=enc)
        res = lk.rank([o["text"] for o in objs], top_k=10)
        ranked = {o["id"]: [m.uri for m in ms] for o, ms in zip(objs, res)}
        print(model_dir, "center", w, metrics(ranked, objs), "hard", metrics(ranked, objs, lambda o: o.get("hard")), flush=True)


if __name__ == "__main__":
    enc = os.environ.get("ENC", "minilm")
    out = os.environ.get("OUT", f"/tmp/align_dl/ft-{enc}")
    if not os.environ.get("EVAL_ONLY"):
        secs = train(enc, int(os.environ.get("STEPS", 60)), float(os.environ.get("LR", 2e-5)), int(os.environ.get("BS", 16)), out)
        print("train seconds", round(secs))
    evaluate(out, 768 if enc == "mpnet" else 384)
