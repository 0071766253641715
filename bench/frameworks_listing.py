#!/usr/bin/env python3
"""Framework listing (``ontology/queries/frameworks.rq``) on large synthetic frameworks.

The listing used to join each framework's competencies with its domains before counting
(|competencies| x |domains| rows), which grew with the square of the framework size (4k
competencies: 25.8 s).  Each count is now its own grouped subquery.  This times the query as
shipped and, for comparison, the old form, for frameworks of 1k/2k/4k (and 8k) competencies with
one domain per 10 competencies.  Writes bench/results/frameworks_listing.json.

Usage: nice -n 10 python bench/frameworks_listing.py [--sizes 1000,2000,4000] [--no-old]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OLD = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX gm: <https://w3id.org/gapmap/ns#>
SELECT ?framework ?id ?title ?version (COUNT(DISTINCT ?c) AS ?competencies) (COUNT(DISTINCT ?d) AS ?domains) WHERE {
  ?framework a gm:Framework ; skos:notation ?id ; dcterms:title ?title .
  OPTIONAL { ?framework dcterms:hasVersion ?version }
  OPTIONAL { ?c skos:inScheme ?framework ; a gm:Competency }
  OPTIONAL { ?d skos:inScheme ?framework ; a gm:Domain }
} GROUP BY ?framework ?id ?title ?version ORDER BY ?id"""


# The linear form before the hash-join rewrite (one type look-up per concept: 0.4-1.1 s with ESCO in the store).
PREV = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX gm: <https://w3id.org/gapmap/ns#>
SELECT ?framework ?id ?title ?version ?competencies ?domains WHERE {
  ?framework a gm:Framework ; skos:notation ?id ; dcterms:title ?title .
  OPTIONAL { ?framework dcterms:hasVersion ?version }
  { SELECT ?framework (COUNT(DISTINCT ?c) AS ?competencies) WHERE {
      ?framework a gm:Framework . OPTIONAL { ?c skos:inScheme ?framework ; a gm:Competency } } GROUP BY ?framework }
  { SELECT ?framework (COUNT(DISTINCT ?d) AS ?domains) WHERE {
      ?framework a gm:Framework . OPTIONAL { ?d skos:inScheme ?framework ; a gm:Domain } } GROUP BY ?framework }
} ORDER BY ?id"""


def synthetic_graph(n: int, per_domain: int = 10, fw: str = "big"):
    """The triples the framework loader makes for ``n`` competencies (built directly: fast)."""
    from rdflib import Graph, Literal
    from ontology.ids import Ids
    from ontology.vocab import DCTERMS, GM, RDF, SKOS
    ids, g = Ids(), Graph()
    f = ids.framework(fw)
    g.add((f, RDF.type, GM.Framework))
    g.add((f, RDF.type, SKOS.ConceptScheme))
    g.add((f, SKOS.notation, Literal(fw)))
    g.add((f, DCTERMS.title, Literal(fw.title())))
    g.add((f, DCTERMS.hasVersion, Literal("1")))
    for d in range(max(1, n // per_domain)):
        c = ids.concept(fw, f"D{d}")
        for t in (GM.Domain, SKOS.Concept):
            g.add((c, RDF.type, t))
        g.add((c, SKOS.inScheme, f))
        g.add((c, SKOS.topConceptOf, f))
        g.add((c, SKOS.notation, Literal(f"D{d}")))
        g.add((c, SKOS.prefLabel, Literal(f"Domain {d}", lang="en")))
    for i in range(n):
        c = ids.concept(fw, f"C{i}")
        for t in (GM.Competency, SKOS.Concept):
            g.add((c, RDF.type, t))
        g.add((c, SKOS.inScheme, f))
        g.add((c, SKOS.broader, ids.concept(fw, f"D{i // per_domain}")))
        g.add((c, SKOS.notation, Literal(f"C{i}")))
        g.add((c, SKOS.prefLabel, Literal(f"Competency {i}", lang="en")))
    return g


def synthetic_store(n: int, per_domain: int = 10, *, via_loader: bool = False):
    """A store with one framework of ``n`` competencies (and n/per_domain domains)."""
    from ontology.ids import Ids
    from ontology.store import open_store
    if not via_loader:
        store = open_store(None)
        store.replace_graphs({Ids().graph("framework", "big"): synthetic_graph(n, per_domain)})
        return store
    from loaders import Context, Source, get
    from ontology.ingest import ingest
    rows = ["id,type,parent_id,label,description,alt_labels,level"]
    for d in range(max(1, n // per_domain)):
        rows.append(f"D{d},domain,,Domain {d},Domain number {d},,")
    for i in range(n):
        rows.append(f"C{i},competency,D{i // per_domain},Competency {i},Does thing {i} well,,")
    store = open_store(None)
    delta = get("framework-csv").load(Source(name="big.csv", data="\n".join(rows).encode()),
                                      Context(options={"id": "big", "title": "Big", "version": "1"}))
    ingest(store, delta)
    return store


def timed(fn, n=3):
    xs = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        xs.append(time.perf_counter() - t0)
    return round(statistics.median(xs), 4), out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2000,4000,8000")
    ap.add_argument("--no-old", action="store_true", help="skip the old (quadratic) query")
    args = ap.parse_args(argv)
    res = {"query": "ontology/queries/frameworks.rq", "runs": []}
    out = ROOT / "bench" / "results" / "frameworks_listing.json"
    before = {}  # with --no-old, the old query's figures of the previous run are kept
    if out.exists():
        before = {r["competencies"]: r.get("old_s") for r in json.loads(out.read_text()).get("runs", [])}
    for n in [int(x) for x in args.sizes.split(",")]:
        store = synthetic_store(n)
        t_new, rows = timed(lambda: store.select("frameworks"))
        row = {"competencies": n, "domains": n // 10, "new_s": t_new,
               "counts": [(r["id"], int(r["competencies"]), int(r["domains"])) for r in rows]}
        if not args.no_old and n <= 4000:
            t_old, _ = timed(lambda: list(store.ox.query(OLD, use_default_graph_as_union=True)), n=1)
            row["old_s"] = t_old
        elif before.get(n) is not None:
            row["old_s"] = before[n]
        t_prev, _ = timed(lambda: list(store.ox.query(PREV, use_default_graph_as_union=True)))
        row["previous_linear_s"] = t_prev
        print(json.dumps(row))
        res["runs"].append(row)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
