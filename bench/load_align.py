#!/usr/bin/env python3
"""Load and align at 3,530 objectives (issue 12's two rows), old code beside new, in one run.

Each measurement runs in a child process on one code tree: this worktree ("new") and, unless
``--no-compare``, an older commit extracted with ``git archive`` ("old", default ``--base 40e4763``,
before the load/align pass).  A child builds its own on-disk store in a temp dir (the bundled
manifest, plus the bundled MD program repeated 10x into one 3,530-objective program ``s00``, made with
bench/scale.py's generator functions), then times:

  * ``load_first``: ``Workspace.load`` of the 3,530-row CSV with validation (the program is new);
  * ``load_replace``: the same load again (replaces the program; reports captured as in the service);
  * ``align_warm``: ``Workspace.align`` of the 3,530 objectives with the embeddings cached (one cold
    run first; the embedding cache is shared by old and new, so only the first child pays it).

Old and new alternate ``--rounds`` times; the JSON has every run, medians, ratios, the load average
at each run, and checks the two trees wrote the same triples (hash of the sorted N-Quads of the
program's curriculum and alignments graphs; alignment timestamps masked).  ``--profile DIR`` also
writes cProfile stats of the new tree's load and warm align.

    python bench/load_align.py                  # writes bench/results/load_align.json
    python bench/load_align.py --rounds 1 --profile /tmp/prof
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _digest(store, graph: str) -> tuple[str, int]:
    """sha1 of a graph's sorted N-Triples lines, dateTime literals masked (alignment timestamps)."""
    import pyoxigraph as ox

    lines = sorted(f"{q.subject} {q.predicate} {q.object} ." for q in
                   store.ox.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
    text = "\n".join(re.sub(r'"[^"]*"\^\^<http://www.w3.org/2001/XMLSchema#dateTime>', '"T"', x) for x in lines)
    return hashlib.sha1(text.encode()).hexdigest(), len(lines)


def child(args) -> dict:
    """Measure on the code tree this process imports (``sys.path[0]`` is set by the parent)."""
    sys.path.insert(0, str(HERE))
    import scale  # bench/scale.py of *this* tree: the generator functions

    sys.path.insert(0, os.environ["PYTHONPATH"])  # the measured tree first (scale.py put this one's root)

    from loaders import Context, Source
    from loaders import get as get_loader
    from service.config import Config
    from service.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="gapmap-la-", dir=args.tmp))
    out: dict = {"code": args.code, "load_average_start": os.getloadavg()}
    try:
        cur = scale._read_csv(ROOT / "data/curriculum/md.csv")
        csv_path = tmp / "curriculum-s00.csv"
        scale._write_csv(csv_path, scale.scaled_curriculum("s00", cur), list(cur[0].keys()))
        cfg = Config()
        cfg.STORE_PATH, cfg.CACHE_DIR = str(tmp / "store"), args.cache
        ws = Workspace.from_config(cfg)
        t0 = time.perf_counter()
        ws.load_manifest(ROOT / "data/manifest.json")
        out["build_manifest_s"] = round(time.perf_counter() - t0, 2)
        out["store_triples_before"] = len(ws.store)

        prof = cProfile.Profile() if args.profile else None

        def run(name, fn):
            out.setdefault("load_average", {})[name] = os.getloadavg()[0]
            if prof and name in ("load_first", "align_warm"):
                prof.enable()
            t = time.perf_counter()
            res = fn()
            out[name + "_s"] = round(time.perf_counter() - t, 3)
            if prof and name in ("load_first", "align_warm"):
                prof.disable()
                prof.dump_stats(str(Path(args.profile) / f"{name}.prof"))
            return res

        res = run("load_first", lambda: ws.load("curriculum-csv", Source.from_path(csv_path), {"framework": "hpc"}))
        out["triples_loaded"] = res.triples
        run("load_replace", lambda: ws.load("curriculum-csv", Source.from_path(csv_path), {"framework": "hpc"}))
        # the delta alone (loader + SHACL, no write): where the load's time goes
        ctx = Context(ids=ws.ids, store=ws.store, options={"framework": "hpc"})
        delta = run("delta_build", lambda: get_loader("curriculum-csv").load(Source.from_path(csv_path), ctx))
        from ontology.shacl import validate
        run("delta_validate", lambda: validate(list(delta.graphs.values())[0], origin=delta.origin,
                                               columns=delta.columns))
        out["graph_curriculum"] = _digest(ws.store, str(ws.ids.graph("curriculum", "s00")))
        run("align_cold", lambda: ws.align("s00"))
        if prof:
            prof = cProfile.Profile()
        ar = run("align_warm", lambda: ws.align("s00"))
        run("align_warm2", lambda: ws.align("s00"))
        out["suggestions"], out["objectives"] = ar.suggestions, ar.objectives
        linker = ws.linker("hpc")
        texts = [r["text"] for r in ws.store.select("program_objective_texts", program=ws.ids.program("s00"))]
        run("rank_only", lambda: linker.rank(texts, top_k=ws.config.ALIGN_TOP_K + 3))
        out["graph_alignments"] = _digest(ws.store, str(ws.ids.graph("alignments", "s00")))
        out["store_triples_after"] = len(ws.store)
        ws.store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _extract(rev: str, dest: Path) -> Path:
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=tar, check=True)
    return dest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="40e4763", help="the old code (a git revision)")
    ap.add_argument("--no-compare", action="store_true", help="measure this tree only")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--profile", help="write cProfile stats of the new tree's load and warm align here")
    ap.add_argument("--out", default=str(ROOT / "bench/results/load_align.json"))
    ap.add_argument("--tmp", default=None, help="where the stores go (on disk; default the system temp dir)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--code", default="new", help=argparse.SUPPRESS)
    ap.add_argument("--cache", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return

    work = Path(tempfile.mkdtemp(prefix="gapmap-la-run-", dir=args.tmp))
    cache = work / "cache"  # shared embedding cache: only the first child encodes
    trees = {"new": ROOT}
    if not args.no_compare:
        trees["old"] = _extract(args.base, Path(tempfile.mkdtemp(dir=work)))
    runs: list[dict] = []
    try:
        for r in range(args.rounds):
            for code in (("old", "new") if r % 2 == 0 else ("new", "old")):
                if code not in trees:
                    continue
                # this script in both cases; the child imports the tree's code (its folder on PYTHONPATH)
                cmd = [sys.executable, str(HERE / "load_align.py"), "--child", "--code", code, "--cache", str(cache)]
                if args.tmp:
                    cmd += ["--tmp", args.tmp]
                if args.profile and code == "new" and r == 0:
                    Path(args.profile).mkdir(parents=True, exist_ok=True)
                    cmd += ["--profile", args.profile]
                env = dict(os.environ, PYTHONPATH=str(trees[code]))
                p = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if p.returncode:
                    sys.stderr.write(p.stderr[-4000:])
                    raise SystemExit(f"the {code} run failed")
                res = json.loads(p.stdout.strip().splitlines()[-1])
                res["round"] = r
                runs.append(res)
                print(code, {k: v for k, v in res.items() if k.endswith("_s")}, "load", res["load_average"],
                      flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    keys = ["load_first_s", "load_replace_s", "delta_build_s", "delta_validate_s", "align_warm_s", "align_warm2_s",
            "rank_only_s"]
    summary: dict = {}
    for code in trees:
        mine = [x for x in runs if x["code"] == code]
        summary[code] = {k: round(statistics.median(x[k] for x in mine), 3) for k in keys}
    if "old" in summary:
        summary["ratio_old_over_new"] = {k: round(summary["old"][k] / summary["new"][k], 2)
                                         for k in keys if summary["new"][k]}
        same = {g: len({json.dumps(x[g]) for x in runs}) == 1 for g in ("graph_curriculum", "graph_alignments")}
        summary["same_triples"] = same
    out = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cores": os.cpu_count(),
           "base": None if args.no_compare else args.base, "targets_s": {"load": 3.0, "align_warm": 6.0},
           "note": "medians over rounds; old and new alternate in one run, each in its own process and store "
                   "(on disk); load_average is the 1-minute figure at the start of each step",
           "summary": summary, "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
