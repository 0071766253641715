#!/usr/bin/env python3
"""Standards in and out on the bundled data (hpc framework, md program): export and import times and sizes for
CASE and the MedBiquitous Curriculum Inventory (with the round trip checked), and the committee exports.

Writes bench/results/standards.json.  Usage: python bench/standards_exports.py
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, n=5):
    out = fn()
    xs = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        xs.append((time.perf_counter() - t0) * 1000)
    return out, round(statistics.median(xs), 1)


def main():
    from rdflib.compare import isomorphic

    from loaders import Context, Source, get
    from loaders.case import export_package
    from loaders.medbiq_ci import export_ci
    from ontology.ingest import ingest
    from ontology.store import open_store
    from service import committee
    from service.config import Config
    from service.workspace import Workspace

    st = open_store(None)
    ws = Workspace(store=st, ids=__import__("ontology.ids", fromlist=["Ids"]).Ids(), config=Config())
    ws.load_manifest(ROOT / "data" / "manifest.json")
    out = {}

    pkg, ms = timed(lambda: export_package(st, ws.ids, "hpc"))
    body = json.dumps(pkg).encode()
    d1, ms_in = timed(lambda: get("case").load(Source(name="hpc.json", data=body), Context(ids=ws.ids)))
    st2 = open_store(None)
    ingest(st2, d1)
    again = get("case").load(Source(name="again.json", data=json.dumps(export_package(st2, ws.ids, "hpc")).encode()),
                             Context(ids=ws.ids))
    out["case"] = {"items": len(pkg["CFItems"]), "associations": len(pkg["CFAssociations"]), "bytes": len(body),
                   "export_ms": ms, "import_ms": ms_in,
                   "round_trip_isomorphic": isomorphic(*[list(x.graphs.values())[0] for x in (d1, again)])}

    xml, ms = timed(lambda: export_ci(st, ws.ids, "md"))
    fw_store = open_store(None)
    ingest(fw_store, get("framework-csv").load(Source.from_path(ROOT / "data" / "framework" / "hpc.csv"),
                                               Context(ids=ws.ids, options={"id": "hpc"})))
    ctx = Context(ids=ws.ids, store=fw_store, options={"framework": "hpc"})
    d1, ms_in = timed(lambda: get("medbiq-ci").load(Source(name="md.xml", data=xml), ctx))
    ingest(fw_store, d1)
    again = get("medbiq-ci").load(Source(name="again.xml", data=export_ci(fw_store, ws.ids, "md")), ctx)
    out["curriculum_inventory"] = {
        "bytes": len(xml), "export_ms": ms, "import_ms": ms_in, "summary": d1.summary,
        "round_trip_isomorphic": isomorphic(*[list(x.graphs.values())[0] for x in (d1, again)])}

    data, ms = timed(lambda: committee.collect(st, ws.ids, "md", "hpc"), n=3)
    png, ms_png = timed(lambda: committee.heatmap_png(data), n=3)
    xlsx, ms_x = timed(lambda: committee.workbook(data), n=3)
    pdf, ms_p = timed(lambda: committee.report_pdf(data, png), n=3)
    html, ms_h = timed(lambda: committee.report_html(data, png), n=3)
    out["committee"] = {"competencies": len(data.report.entries), "courses": len(data.courses),
                        "roles": len(data.readiness), "collect_ms": ms, "heatmap_png_ms": ms_png,
                        "xlsx_ms": ms_x, "pdf_ms": ms_p, "html_ms": ms_h,
                        "bytes": {"png": len(png), "xlsx": len(xlsx), "pdf": len(pdf), "html": len(html)}}
    dest = ROOT / "bench" / "results" / "standards.json"
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
