"""Experiment: shortlist first stage and late-chunked unit vectors for `gapmap link` (issue 12's link row).

    .venv/bin/python bench/exp/link_fast.py [variant ...]

Variants (prefixes combine with a shortlist, e.g. ``mix-sl300``): exact, sl<N> (shortlist N), late-… (unit vectors
pooled from the whole sentence's token outputs), latew-… (windows pooled, clauses encoded), mix-… (window and keyword
units through the int8 model, ``bench/link_int8.py``), i8-… (int8 for everything), b16-… (bf16 throughout, as
`gapmap link` on a CPU with AMX; §7c), qb16-… (query units in bf16, catalogue fp32).  The function-word window filter
(``fw<K>-…``: windows with more than K function words dropped) ran on commit 623b62d's engine, whose
``LinkerConfig.window_max_fw`` was removed as it was not adopted.  Results: bench/EXPERIMENTS.md §7b.  ``sl<N>`` is the engine's shortlist as shipped; the
first version (whole sentence x every name in stage 1, the table's first shortlist rows) is commit e735a30's engine.  Prints RP@5 / RP@10 / MRR on HOUSE and TECH and the in-process rank time on the 2,000-sentence
speed set.  Needs ../shared.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


from linking import engine  # noqa: E402
from linking.encoder import default_encoder  # noqa: E402
from loaders.linkfiles import read_competencies  # noqa: E402
from linking import encoder as E  # noqa: E402

DATA = ROOT.parent / "shared" / "bench" / "skill-linking"


def score(gold, ranked):
    mrr = rp5 = rp10 = 0.0
    for g, r in zip(gold, ranked):
        gs = set(g)
        for i, u in enumerate(r, 1):
            if u in gs:
                mrr += 1 / i
                break
        rp5 += sum(u in gs for u in r[:5]) / min(5, len(gs))
        rp10 += sum(u in gs for u in r[:10]) / min(10, len(gs))
    n = len(gold)
    return {"RP@5": round(100 * rp5 / n, 2), "RP@10": round(100 * rp10 / n, 2), "MRR": round(100 * mrr / n, 2)}


class LateLinker(engine.Linker):
    """Unit vectors = mean of the whole sentence's contextual token vectors inside the unit's span."""

    def query_units(self, texts, memo=None):
        units, unit_span, owner, uvecs, inv, kind = super_query_units_spans(self, texts)
        return units, unit_span, owner, uvecs, inv, kind


def token_outputs(enc: E.Encoder, texts):
    sess, tok = enc._onnx()
    encs = tok.encode_batch(list(texts))
    lens = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
    order = np.argsort(lens, kind="stable")
    out = [None] * len(texts)
    for b in range(0, len(texts), 32):
        idx = order[b:b + 32]
        width = int(lens[idx].max())
        ids = np.zeros((len(idx), width), np.int64)
        mask = np.zeros((len(idx), width), np.int64)
        for r, i in enumerate(idx):
            ids[r, :lens[i]] = encs[i].ids
            mask[r, :lens[i]] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if enc._onnx_token_types:
            feed["token_type_ids"] = np.zeros_like(ids)
        h = sess.run(None, feed)[0]
        for r, i in enumerate(idx):
            out[i] = (h[r, :lens[i]], encs[i].offsets)
    return out


def units_only(linker, texts):
    """Linker.query_units' units without encoding them (the variants below give them other vectors)."""
    saved = linker.encoder.encode_raw
    linker.encoder.encode_raw = lambda u, **k: np.zeros((len(u), linker.encoder.dim), np.float32)
    try:
        return engine.Linker.query_units(linker, texts)
    finally:
        linker.encoder.encode_raw = saved


def super_query_units_spans(linker, texts):
    # the same units as Linker.query_units, vectors pooled from the sentence's token outputs
    cfg = linker.config
    units, unit_span, owner, _, inv, kind = units_only(linker, texts)
    toks = token_outputs(linker.encoder, texts)
    vecs = np.empty((len(units), linker.encoder.dim), np.float32)
    mode = cfg.extra.get("late", "all")
    for k, (o, (a, b), kd) in enumerate(zip(owner, unit_span, kind)):
        h, offs = toks[o]
        if kd == 0:
            v = h.mean(axis=0)
        else:
            sel = np.array([s < b and e > a and e > s for s, e in offs])
            if not sel.any():
                sel[:] = True
            if cfg.extra.get("cls"):
                sel[0] = sel[-1] = True
            v = h[sel].mean(axis=0)
        vecs[k] = v / max(np.linalg.norm(v), 1e-12)
    if mode == "windows":  # clauses encoded on their own, windows/keywords pooled
        cl = [k for k in range(len(units)) if kind[k] == 1]
        if cl:
            vecs[cl] = linker.encoder.encode_raw([units[k] for k in cl])
    return units, unit_span, owner, vecs, np.arange(len(units)), kind


def bench_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_linking", ROOT / "bench" / "linking.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(variants):
    comps = read_competencies(DATA / "esco_skills.jsonl")
    enc = default_encoder()
    print("model", enc.model_id, enc.backend, flush=True)
    sets = {s: [json.loads(x) for x in open(DATA / f"{s}.jsonl")] for s in ("house", "tech")}

    for v in variants:
        extra = {}
        cfg = engine.LinkerConfig()
        cls = engine.Linker
        name = v
        if v.startswith("latec"):
            cls = ClauseLateLinker
            v = v.split("-", 1)[1] if "-" in v else "exact"
        elif v.startswith("late"):
            cls = LateLinker
            extra["late"] = "windows" if v.startswith("latew") else "all"
            v = v.split("-", 1)[1] if "-" in v else "exact"
        if v.startswith("mix"):
            cls = MixLinker
            MixLinker.fast = E.load_local(ROOT / "var" / "models" / "minilm-esco-int8")
            v = v.split("-", 1)[1] if "-" in v else "exact"
        if v.startswith("b16"):  # bf16 throughout, as `gapmap link` on a CPU with AMX / AVX512-BF16
            enc_b16 = E.default_encoder(precision="bf16")
            v = v.split("-", 1)[1] if "-" in v else "exact"
        else:
            enc_b16 = None
        if v.startswith("qb16"):  # query units in bf16 (torch), catalogue as the default encoder encodes it
            cls = QueryEncLinker
            QueryEncLinker.fast = E.default_encoder(precision="bf16")
            v = v.split("-", 1)[1] if "-" in v else "exact"
        if v.startswith("i8"):
            enc_v = E.load_local(ROOT / "var" / "models" / "minilm-esco-int8")
            v = v.split("-", 1)[1] if "-" in v else "exact"
        else:
            enc_v = enc_b16 or enc
        if v.startswith("sl"):
            cfg = dataclasses.replace(cfg, shortlist=int(v[2:]))
        cfg = dataclasses.replace(cfg, extra=extra)
        t0 = time.perf_counter()
        linker = cls(comps, config=cfg, encoder=enc_v)
        build = time.perf_counter() - t0
        res = {"variant": name, "build_s": round(build, 2)}
        for s, rows in sets.items():
            t0 = time.perf_counter()
            ranked = linker.rank([r["text"] for r in rows], top_k=10)
            res[s] = score([r["gold"] for r in rows], [[m.uri for m in ms] for ms in ranked])
            res[s]["rank_s"] = round(time.perf_counter() - t0, 2)
        if SPEED:
            texts = bench_module().speed_queries(2000)
            enc.encode_raw(texts[:64])
            t0 = time.perf_counter()
            for b in range(0, len(texts), 256):
                linker.rank(texts[b:b + 256], top_k=10)
            res["speed_rank_s"] = round(time.perf_counter() - t0, 2)
        print(json.dumps(res), flush=True)




class MixLinker(engine.Linker):
    """Whole sentences and clauses through this linker's encoder, window and keyword units through ``fast``."""

    fast = None

    def query_units(self, texts, memo=None):
        units, unit_span, owner, _, inv, kind = units_only(self, texts)
        uniq = list(dict.fromkeys(units))
        where = {u: i for i, u in enumerate(uniq)}
        exact = np.zeros(len(uniq), bool)
        for u, k in zip(units, kind):
            if k < 2:
                exact[where[u]] = True
        vecs = np.empty((len(uniq), self.encoder.dim), np.float32)
        ie = np.flatnonzero(exact)
        iff = np.flatnonzero(~exact)
        if len(ie):
            vecs[ie] = self.encoder.encode_raw([uniq[i] for i in ie])
        if len(iff):
            vecs[iff] = self.fast.encode_raw([uniq[i] for i in iff])
        return units, unit_span, owner, vecs, inv, kind




class QueryEncLinker(engine.Linker):
    """Every query unit through ``fast`` (another precision of the same model); the catalogue through the linker's."""

    fast = None

    def query_units(self, texts, memo=None):
        saved = self.encoder.encode_raw
        self.encoder.encode_raw = self.fast.encode_raw
        try:
            return engine.Linker.query_units(self, texts, memo)
        finally:
            self.encoder.encode_raw = saved


class ClauseLateLinker(engine.Linker):
    """Whole sentences and clauses encoded (one pass, token outputs kept); each window/keyword unit pooled from the
    token outputs of the shortest clause (or, failing one, the sentence) that contains it."""

    def query_units(self, texts, memo=None):
        units, unit_span, owner, _, inv, kind = units_only(self, texts)
        owner = np.asarray(owner)
        hosts = [k for k in range(len(units)) if kind[k] < 2]
        toks = token_outputs(self.encoder, [units[k] for k in hosts])
        host_of = {k: i for i, k in enumerate(hosts)}
        vecs = np.empty((len(units), self.encoder.dim), np.float32)
        by_owner: dict[int, list[int]] = {}
        for k in hosts:
            by_owner.setdefault(int(owner[k]), []).append(k)
        for k in range(len(units)):
            if kind[k] < 2:
                h, _ = toks[host_of[k]]
                v = h.mean(axis=0)
            else:
                a, b = unit_span[k]
                best = None
                for hk in by_owner[int(owner[k])]:
                    ha, hb = unit_span[hk]
                    if ha <= a and b <= hb and (best is None or hb - ha < unit_span[best][1] - unit_span[best][0]):
                        best = hk
                h, offs = toks[host_of[best]]
                ha = unit_span[best][0]
                sel = np.array([s < b - ha and e > a - ha and e > s for s, e in offs])
                if not sel.any():
                    sel[:] = True
                v = h[sel].mean(axis=0)
            vecs[k] = v / max(np.linalg.norm(v), 1e-12)
        return units, unit_span, owner, vecs, np.arange(len(units)), np.asarray(kind)


SPEED = "--speed" in sys.argv
if __name__ == "__main__":
    main([a for a in sys.argv[1:] if a != "--speed"] or ["exact", "sl300"])
