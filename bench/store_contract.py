#!/usr/bin/env python3
"""What the Store contract's operations cost on the embedded store (memory and disk).

For graphs of 10k and 100k triples: a first ``replace_graphs`` outside and inside a ``transaction()``
(inside, writes are buffered as one SPARQL update instead of Oxigraph's bulk ``extend``), a re-replace
changing 1% of the triples (the diff path), ``snapshot()`` (memory: a copy; disk: a checkpoint), a
``generation`` read, and a ``select`` on the live store vs on a snapshot.  Median of 3 runs.
Writes bench/results/store_contract.json.

Usage: nice -n 10 python bench/store_contract.py [--sizes 10000,100000]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rdflib import Graph, Literal, URIRef  # noqa: E402

from ontology.store import EmbeddedStore  # noqa: E402

G = URIRef("https://example.edu/gapmap/graph/framework/bench")
GM = "https://w3id.org/gapmap/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def framework(n_triples: int, variant: int = 0) -> Graph:
    g = Graph()
    scheme = URIRef("https://example.edu/gapmap/framework/b")
    g.add((scheme, RDF_TYPE, URIRef(GM + "Framework")))
    g.add((scheme, URIRef(SKOS + "notation"), Literal("b")))
    for i in range(n_triples // 4):
        c = URIRef(f"{scheme}/C{i}")
        g.add((c, RDF_TYPE, URIRef(GM + "Competency")))
        g.add((c, URIRef(SKOS + "inScheme"), scheme))
        g.add((c, URIRef(SKOS + "notation"), Literal(f"C{i}")))
        label = f"Competency {i}" + (f" v{variant}" if variant and i % 25 == 0 else "")
        g.add((c, URIRef(SKOS + "prefLabel"), Literal(label, lang="en")))
    return g


def ms(f, n=3) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def run(kind: str, size: int, tmp: Path) -> dict:
    base, changed = framework(size), framework(size, variant=1)
    counter = iter(range(10**6))

    def fresh():
        return EmbeddedStore(tmp / f"{kind}-{size}-{next(counter)}" if kind == "disk" else None)

    def first_plain():
        with fresh() as s:
            s.replace_graphs({G: base})

    def first_tx():
        with fresh() as s:
            with s.transaction():
                s.replace_graphs({G: base})

    def open_close():
        fresh().close()

    out = {"triples": size, "open_close_ms": ms(open_close)}
    out["first_replace_ms"] = round(ms(first_plain) - out["open_close_ms"], 2)
    out["first_replace_in_transaction_ms"] = round(ms(first_tx) - out["open_close_ms"], 2)
    s = fresh()
    s.replace_graphs({G: base})
    flip = [changed, base]
    out["replace_1pct_changed_ms"] = ms(lambda: s.replace_graphs({G: flip.reverse() or flip[0]}))
    out["generation_read_us"] = round(ms(lambda: [s.generation for _ in range(1000)]), 2)  # ms per 1000 = us each
    out["select_live_ms"] = ms(lambda: s.select("framework_competencies", fw=Literal("b")))
    snaps = []
    out["snapshot_ms"] = ms(lambda: snaps.append(s.snapshot()))
    out["select_on_snapshot_ms"] = ms(lambda: snaps[0].select("framework_competencies", fw=Literal("b")))
    out["snapshot_close_ms"] = ms(lambda: snaps.pop().close())
    s.close()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for kind in ("memory", "disk"):
            for size in (int(x) for x in args.sizes.split(",")):
                r = {"store": kind, **run(kind, size, Path(d))}
                print(r, flush=True)
                rows.append(r)
    res = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "load_average": os.getloadavg()[0],
           "rows": rows}
    out = ROOT / "bench" / "results" / "store_contract.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
