"""Syllabus extraction benchmark: precision/recall of extracted objectives on the fixture corpus.

    .venv/bin/python bench/syllabus_extraction.py [--fixtures DIR] [--out FILE] [--quiet]

Runs :func:`loaders.syllabus.extract` over every file listed in
``tests/fixtures/syllabi/expected.json``, matches extracted objectives to the hand-written ones on
normalised text (case, whitespace, quotes, dashes and trailing punctuation ignored; one-to-one),
prints a per-file table and writes ``bench/results/syllabus_extraction.json`` (no timings in the
file, so it only changes when the figures do).  Files expected to fail are checked for the right
error class and HTTP status.  ``tests/loaders/test_syllabus.py`` imports the scoring from here.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from loaders.syllabus import extract  # noqa: E402
from ontology.errors import GapmapError  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "syllabi"
OUT = ROOT / "bench" / "results" / "syllabus_extraction.json"

#: Fixtures marked "split": "heldout" / "heldout2" in expected.json were written, with their expected
#: objectives, after the extractor had been tuned on the "dev" ones (and, for heldout2, on heldout),
#: and scored once before any change.  Those first, blind figures are kept here because the current
#: ones are no longer blind: each batch's misses were then fixed.
HELDOUT_FIRST_RUN = {
    "issue9": {
        "files": {
            "peds430_typed_tabs.docx": {"expected": 7, "extracted": 3, "matched": 3,
                                        "cause": "objectives starting with give/coordinate/disclose not taken for "
                                                 "objectives (verbs missing), the first item after the stem missed"},
            "famm350_nested_domains.html": {"expected": 6, "extracted": 7, "matched": 4,
                                            "cause": "domain labels taken for objectives; lead/collaborate missing"},
            "famm351_nested_domains.md": {"expected": 6, "extracted": 3, "matched": 0,
                                          "cause": "indented lettered items folded into their numbered domain label"},
            "emed410_meta_title.pdf": {"expected": 4, "extracted": 4, "matched": 4},
            "imed420_assessment.md": {"expected": 2, "extracted": 2, "matched": 2},
        },
        "overall": {"expected": 25, "extracted": 19, "matched": 13, "precision": 0.684, "recall": 0.52},
        "fixed_by": "fuller Bloom verb list; an objectives section runs across same-level sub-headings when the "
                    "numbering continues (or only a ':' lead-in precedes); short verb-less items over objective "
                    "sub-items are category labels; lettered lines lazily continuing a Markdown item are sub-items",
    },
    "heldout": {
        "files": {
            "radi330_running_headers.pdf": {"expected": 6, "extracted": 5, "matched": 5,
                                            "cause": "the running header at the top of page 2 ended the list"},
            "obgy520_word_numbering.docx": {"expected": 5, "extracted": 5, "matched": 5},
            "fammed_br_lines.html": {"expected": 4, "extracted": 4, "matched": 4},
            "nursing_outcomes.md": {"expected": 4, "extracted": 5, "matched": 3,
                                    "cause": "took the two detail sub-bullets instead of their 'including:' parent"},
            "path220_inline_labels.txt": {"expected": 4, "extracted": 4, "matched": 4},
        },
        "overall": {"expected": 23, "extracted": 23, "matched": 21, "precision": 0.913, "recall": 0.913},
        "fixed_by": "running headers/footers dropped from PDFs; sub-items without their own action verb are "
                    "details of their parent",
    },
    "heldout2": {
        "files": {
            "immu240_keyvalue_header.pdf": {"expected": 5, "extracted": 2, "matched": 1,
                                            "cause": "key/value pairs side by side taken for two columns, which "
                                                     "split every wrapped line into its own paragraph"},
            "ebm330_clo_table.docx": {"expected": 5, "extracted": 8, "matched": 5,
                                      "cause": "a CLO-to-programme mapping table read as objectives"},
            "anes450_objetivos_es.docx": {"expected": 5, "extracted": 5, "matched": 5},
            "ophth_legacy_layout.html": {"expected": 4, "extracted": 0, "matched": 0,
                                         "cause": "a layout <table> read as a data table (whole page in one "
                                                  "cell); title taken from <title>"},
            "gast350_pdftotext.txt": {"expected": 5, "extracted": 5, "matched": 4,
                                      "cause": "a running 'page 2' header after a form feed glued to an item"},
        },
        "overall": {"expected": 24, "extracted": 20, "matched": 15, "precision": 0.75, "recall": 0.625},
        "fixed_by": "column detection needs >= 6 right-hand lines; tables outside an objectives section need "
                    "objective-like cells; layout tables walked as containers; bold/large first line is the "
                    "title; form feeds split pages and page headers are dropped",
    },
}


def normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text or "").lower()
    t = t.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                                   "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " "}))
    t = re.sub(r"\s+", " ", t).strip()
    return t.rstrip(" .;:,!?").strip()


def match(extracted: list[str], expected: list[str]) -> int:
    """Number of one-to-one matches on normalised text."""
    want = Counter(normalise(e) for e in expected)
    hits = 0
    for x in extracted:
        k = normalise(x)
        if want[k] > 0:
            want[k] -= 1
            hits += 1
    return hits


def prf(tp: int, n_extracted: int, n_expected: int) -> tuple[float, float, float]:
    p = tp / n_extracted if n_extracted else (1.0 if n_expected == 0 else 0.0)
    r = tp / n_expected if n_expected else (1.0 if n_extracted == 0 else 0.0)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def load_expected(fixtures: Path = FIXTURES) -> dict:
    data = json.loads((fixtures / "expected.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _assessment_score(s, exp: dict) -> dict:
    """Assessment components (issue 9): matched when kind, weight and pass/fail are all equal."""
    if "assessments" not in exp:
        return {}
    want = Counter((a["kind"], a.get("weight"), bool(a.get("pass_fail"))) for a in exp["assessments"])
    got = Counter((a.kind, a.weight, a.pass_fail) for a in s.assessments)
    return {"assessments_expected": sum(want.values()), "assessments_extracted": sum(got.values()),
            "assessments_matched": sum((want & got).values())}


def score_file(name: str, exp: dict, fixtures: Path = FIXTURES) -> dict:
    data = (fixtures / name).read_bytes()
    t0 = time.perf_counter()
    try:
        s = extract(data, name)
    except GapmapError as e:
        row = {"file": name, "format": exp.get("format"), "error": type(e).__name__, "status": e.status,
               "message": e.message, "seconds": time.perf_counter() - t0}
        if "error" in exp:
            row["ok"] = (type(e).__name__ == exp["error"]["type"] and e.status == exp["error"]["status"]
                         and exp["error"].get("message_contains", "").lower() in e.message.lower())
        else:
            row.update(ok=False, expected=len(exp["objectives"]), extracted=0, matched=0,
                       precision=0.0, recall=0.0, f1=0.0)
        return row
    secs = time.perf_counter() - t0
    if "error" in exp:
        return {"file": name, "format": s.format, "error": None, "ok": False, "seconds": secs,
                "message": f"expected {exp['error']['type']}, got a result"}
    got = [o.text for o in s.objectives]
    tp = match(got, exp["objectives"])
    p, r, f = prf(tp, len(got), len(exp["objectives"]))
    missed = [e for e in exp["objectives"] if normalise(e) not in {normalise(g) for g in got}]
    extra = [g for g in got if normalise(g) not in {normalise(e) for e in exp["objectives"]}]
    return {"file": name, "format": s.format, "kind": exp.get("kind"), "split": exp.get("split", "dev"),
            "layout": exp.get("layout"),
            "layout_kind": exp.get("layout") if exp.get("split") == "issue9" else "earlier corpus",
            **_assessment_score(s, exp),
            "expected": len(exp["objectives"]), "extracted": len(got), "matched": tp,
            "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "methods": dict(Counter(o.method for o in s.objectives)),
            "title_ok": s.title == exp.get("title"), "course_code_ok": s.course_code == exp.get("course_code"),
            "language_ok": s.language == exp.get("language"), "format_ok": s.format == exp.get("format"),
            "with_bloom_level": sum(1 for o in s.objectives if o.bloom_level),
            "missed": missed, "spurious": extra, "warnings": list(s.warnings), "seconds": secs}


def _micro(rows: list[dict]) -> dict:
    tp = sum(r["matched"] for r in rows)
    ne = sum(r["extracted"] for r in rows)
    nx = sum(r["expected"] for r in rows)
    p, r, f = prf(tp, ne, nx)
    return {"files": len(rows), "expected": nx, "extracted": ne, "matched": tp,
            "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def evaluate(fixtures: Path = FIXTURES) -> dict:
    expected = load_expected(fixtures)
    rows = [score_file(name, exp, fixtures) for name, exp in expected.items()]
    good = [r for r in rows if "matched" in r]
    bad = [r for r in rows if "matched" not in r]
    by_format = {fmt: _micro([r for r in good if r["format"] == fmt])
                 for fmt in sorted({r["format"] for r in good})}
    by_kind = {k: _micro([r for r in good if r.get("kind") == k]) for k in sorted({r.get("kind") for r in good})}
    by_split = {k: _micro([r for r in good if r.get("split") == k]) for k in sorted({r.get("split") for r in good})}
    by_layout = {lay: _micro([r for r in good if r.get("layout_kind") == lay])
                 for lay in sorted({r.get("layout_kind") or "earlier corpus" for r in good})}
    arows = [r for r in good if "assessments_expected" in r]
    a_tp = sum(r["assessments_matched"] for r in arows)
    a_n_got = sum(r["assessments_extracted"] for r in arows)
    a_n_exp = sum(r["assessments_expected"] for r in arows)
    ap, ar, af = prf(a_tp, a_n_got, a_n_exp)
    assessments = {"files": len(arows), "expected": a_n_exp, "extracted": a_n_got, "matched": a_tp,
                   "precision": round(ap, 4), "recall": round(ar, 4), "f1": round(af, 4),
                   "match": "kind, weight and pass/fail all equal"}
    return {"files": rows, "by_format": by_format, "by_kind": by_kind, "by_split": by_split, "by_layout": by_layout,
            "assessments": assessments,
            "heldout_first_run": HELDOUT_FIRST_RUN, "overall": _micro(good),
            "metadata": {"title": sum(r["title_ok"] for r in good),
                         "course_code": sum(r["course_code_ok"] for r in good),
                         "language": sum(r["language_ok"] for r in good), "of": len(good)},
            "bad_files": {"ok": sum(1 for r in bad if r.get("ok")), "of": len(bad)}}


def table(result: dict) -> str:
    lines = [f"{'file':<32} {'fmt':<8} {'kind':<10} {'exp':>3} {'got':>3} {'hit':>3} {'P':>5} {'R':>5} {'F1':>5}  meta"]
    for r in result["files"]:
        if "matched" in r:
            meta = "".join(c if ok else "-" for c, ok in (("T", r["title_ok"]), ("C", r["course_code_ok"]),
                                                         ("L", r["language_ok"])))
            lines.append(f"{r['file']:<32} {r['format']:<8} {r['kind'] or '':<10} {r['expected']:>3} "
                         f"{r['extracted']:>3} {r['matched']:>3} {r['precision']:>5.2f} {r['recall']:>5.2f} "
                         f"{r['f1']:>5.2f}  {meta}")
    lines.append("")
    for label, group in (("format", result["by_format"]), ("kind", result["by_kind"]), ("split", result["by_split"]),
                         ("layout", result["by_layout"])):
        for k, m in group.items():
            lines.append(f"{'  by ' + label + ': ' + str(k):<43} {m['expected']:>3} {m['extracted']:>3} "
                         f"{m['matched']:>3} {m['precision']:>5.2f} {m['recall']:>5.2f} {m['f1']:>5.2f}")
    m = result["assessments"]
    lines.append(f"{'  assessment components (kind+weight)':<43} {m['expected']:>3} {m['extracted']:>3} "
                 f"{m['matched']:>3} {m['precision']:>5.2f} {m['recall']:>5.2f} {m['f1']:>5.2f}")
    m = result["overall"]
    lines.append(f"{'  overall (micro)':<43} {m['expected']:>3} {m['extracted']:>3} {m['matched']:>3} "
                 f"{m['precision']:>5.2f} {m['recall']:>5.2f} {m['f1']:>5.2f}")
    for split, first in result["heldout_first_run"].items():
        h = first["overall"]
        hf = 2 * h["precision"] * h["recall"] / (h["precision"] + h["recall"])
        lines.append(f"{'  ' + split + ', first blind run':<43} {h['expected']:>3} {h['extracted']:>3} "
                     f"{h['matched']:>3} {h['precision']:>5.2f} {h['recall']:>5.2f} {hf:>5.2f}")
    md = result["metadata"]
    lines.append(f"  metadata correct: title {md['title']}/{md['of']}, course code {md['course_code']}/{md['of']}, "
                 f"language {md['language']}/{md['of']}  (meta column: T title, C code, L language)")
    lines.append("")
    for r in result["files"]:
        if "matched" not in r:
            lines.append(f"{r['file']:<32} {r['format'] or '':<8} -> {r['error'] or 'no error'} {r.get('status', '')} "
                         f"{'ok' if r.get('ok') else 'WRONG'}: {r['message'][:70]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=Path, default=FIXTURES)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    result = evaluate(args.fixtures)
    total = time.perf_counter() - t0
    print(table(result))
    if not args.quiet:
        for r in result["files"]:
            for m in r.get("missed", []):
                print(f"  missed   {r['file']}: {m}")
            for x in r.get("spurious", []):
                print(f"  spurious {r['file']}: {x}")
    print(f"\n{len(result['files'])} files in {total:.2f} s")
    for r in result["files"]:
        r.pop("seconds", None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
