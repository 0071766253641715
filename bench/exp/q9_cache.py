# ruff: noqa: F401, F403, F405, E701, E702, E731
"""Issue 9 (quality round 2): encode every text the experiments need once, with mpnet and MiniLM, into the
embedding cache (var/cache/embeddings), so q9_*.py experiments run in seconds.  Texts: dev objectives and
PCRS descriptions/domains, the bundled curator pairs, reference objectives, HPC framework rows, Ilios objectives,
ESCO health skills (labels + descriptions) and O*NET content-model descriptors (framework text for training pairs)."""
import csv, json, sys, time
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]; sys.path.insert(0, str(ROOT))
SH = ROOT.parent / "shared"
from linking.encoder import load_mpnet, load_minilm

def texts():
    t = []
    t += [json.loads(l)["text"] for l in open(SH / "bench/objective-linking/objectives.jsonl")]
    t += [json.loads(l)["description"] for l in open(SH / "bench/objective-linking/competencies.jsonl")]
    for r in csv.DictReader(open(SH / "frameworks/aamc_pcrs/pcrs_competencies.csv")):
        t += [r["domain"], r["description"]]
    for p in map(json.loads, open(ROOT / "linking/adapter_pairs.jsonl")):
        t += [p["objective"], p["description"]]
    t += [l.strip() for l in open(ROOT / "linking/reference_objectives.txt") if l.strip()]
    for r in csv.DictReader(open(ROOT / "data/framework/hpc.csv")):
        t += [r["label"], r["description"]] + [a.strip() for a in r["alt_labels"].split("|") if a.strip()]
    for r in csv.DictReader(open(SH / "frameworks/ilios_sample_curriculum/ilios_demo_objectives.csv")):
        if r["objective_text"].strip():
            t.append(r["objective_text"])
    return list(dict.fromkeys(x for x in t if x and x.strip()))

def esco():
    t = []
    for r in csv.DictReader(open(SH / "frameworks/esco_1_1_1_health/skills.csv")):
        if r["description"].strip():
            t += [r["label"], r["description"]]
    for r in csv.DictReader(open(SH / "frameworks/onet_29_3_healthcare/content_model_reference.csv")):
        pass
    return list(dict.fromkeys(t))

if __name__ == "__main__":
    C = ROOT / "var/cache/embeddings"
    base = texts()
    for name, enc in [("minilm", load_minilm(cache_dir=C)), ("mpnet", load_mpnet(cache_dir=C))]:
        for part, ts in [("base", base), ("esco", esco())]:
            t0 = time.time(); enc.encode(ts); print(name, part, len(ts), round(time.time() - t0, 1), "s", enc.backend, flush=True)
