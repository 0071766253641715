"""Property-based fuzzing of every parser: only typed GapmapErrors (4xx) may escape.

Each test feeds ``GAPMAP_FUZZ_EXAMPLES`` inputs (default 2,000; ``make fuzz`` runs 20x) to one
parser: small seed documents (the mini fixtures, minimal DOCX/PDF/SKOS files) mutated by
hypothesis (bytes inserted, deleted, duplicated, replaced; tokens that break CSV, XML, JSON,
Turtle and spreadsheets spliced in).  Deterministic in CI (``CI`` set), random otherwise.
"""
from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from loaders import Context, Source, get, syllabus
from ontology.errors import GapmapError

from .fuzz_seeds import docx, pdf

EXAMPLES = int(os.environ.get("GAPMAP_FUZZ_EXAMPLES", "2000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=bool(os.environ.get("CI")),
                suppress_health_check=list(HealthCheck), print_blob=True)
MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"

TOKENS = [b",", b'"', b"'", b"\n", b"\r\n", b";", b"|", b"\t", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
          b"=HYPERLINK(\"http://x\")", b"-1", b"1e309", b"NaN", b"inf", b"9" * 40, b"", b" ", b"<", b">", b"&",
          b"&amp;", b"<!ENTITY x \"y\">", b"<!DOCTYPE x [", b"]]>", b"{", b"}", b"[", b"]", b"@context", b"@id",
          b"\"@import\"", b"\\u0000", b"\\", b"#", b"_:b", b"<http://x/a b>", b"\xc3\x28", b"\xe2\x80\xae",
          "é".encode(), "日本".encode(), b"true", b"false", b"0", b"0.5", b"2026", b"x" * 300]


def mutate(data: bytes, rng: random.Random, tokens: list[bytes] = TOKENS, ops: int | None = None) -> bytes:
    """Up to 8 random edits: bytes inserted/deleted/replaced, spans duplicated, tokens spliced in,
    whole lines duplicated or dropped."""
    data = bytearray(data)
    for _ in range(rng.randint(0, 8) if ops is None else ops):
        op = rng.randint(0, 5)
        pos = rng.randint(0, len(data))
        if op == 0:
            data[pos:pos] = bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 8)))
        elif op == 1 and data:
            del data[pos:min(len(data), pos + rng.randint(1, 40))]
        elif op == 2:
            data[pos:pos] = rng.choice(tokens)
        elif op == 3 and data:
            data[pos:pos] = data[pos:min(len(data), pos + rng.randint(1, 80))] * rng.randint(1, 3)
        elif op == 4 and data and pos < len(data):
            data[pos] = rng.randint(0, 255)
        elif op == 5:
            lines = bytes(data).split(b"\n")
            i = rng.randrange(len(lines))
            if rng.random() < 0.5:
                lines.insert(i, lines[i])
            elif len(lines) > 1:
                del lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def mutated(seeds: list[bytes], tokens: list[bytes] = TOKENS):
    """Hypothesis draws the seed and a 64-bit mutation key (cheap to generate, so thousands of
    examples fit in seconds); the edits follow from the key, so a failure prints what reproduces it."""
    return st.builds(lambda seed, key: mutate(seed, random.Random(key), tokens),
                     st.sampled_from(seeds), st.integers(0, 2**64 - 1))


def expect_typed(fn, *a, **kw):
    """Run ``fn``; a GapmapError with a 4xx status is fine, anything else fails the property."""
    try:
        fn(*a, **kw)
    except GapmapError as e:
        assert 400 <= e.status < 500, f"{type(e).__name__} with status {e.status}: {e}"


# ------------------------------------------------------------------ table loaders
_WS = None


def mini_workspace():
    global _WS
    if _WS is None:
        from service.config import Config
        from service.workspace import Workspace
        cfg = Config()
        cfg.STORE_PATH = ""
        _WS = Workspace.from_config(cfg)
        _WS.load_manifest(MINI / "manifest.json")
    return _WS


OPTIONS = {"framework-csv": {"id": "fz", "title": "Fuzz"}, "curriculum-csv": {"framework": "mini"},
           "curriculum-xlsx": {"framework": "mini"}, "assessments-csv": {"framework": "mini"},
           "results-csv": {"program": "mini"}, "roles-csv": {"id": "fz-roles", "framework": "mini"}}
FILES = {"framework-csv": "framework.csv", "curriculum-csv": "curriculum.csv", "assessments-csv": "assessments.csv",
         "results-csv": "results.csv", "roles-csv": "roles.csv"}


def run_loader(loader: str, name: str, data: bytes):
    ws = mini_workspace()
    ctx = Context(ids=ws.ids, store=ws.store, options=dict(OPTIONS[loader]))
    expect_typed(get(loader).load, Source(name=name, data=data), ctx)


@pytest.mark.parametrize("loader", sorted(FILES))
def test_fuzz_table_loaders(loader):
    seed = (MINI / FILES[loader]).read_bytes()

    @FUZZ
    @given(mutated([seed]))
    def prop(data):
        run_loader(loader, FILES[loader], data)
    prop()


def _xlsx_seed() -> bytes:
    from openpyxl import Workbook
    import csv
    wb = Workbook()
    ws = wb.active
    for row in csv.reader((MINI / "curriculum.csv").read_text().splitlines()):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rezip(template: bytes, replace: dict[str, bytes]) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(template))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            z.writestr(info.filename, replace.get(info.filename, src.read(info)))
    return buf.getvalue()


def test_fuzz_curriculum_xlsx():
    seed = _xlsx_seed()
    parts = zipfile.ZipFile(io.BytesIO(seed))
    sheet = parts.read("xl/worksheets/sheet1.xml")
    strings = parts.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in parts.namelist() else None

    @FUZZ
    @given(st.integers(0, 3), mutated([sheet]), mutated([strings or sheet]), mutated([seed]))
    def prop(mode, new_sheet, new_strings, raw):
        if mode == 0:  # the raw bytes mutated: mostly a broken zip
            data = raw
        elif mode == 1 or strings is None:
            data = _rezip(seed, {"xl/worksheets/sheet1.xml": new_sheet})
        elif mode == 2:
            data = _rezip(seed, {"xl/sharedStrings.xml": new_strings})
        else:
            data = _rezip(seed, {"xl/worksheets/sheet1.xml": new_sheet, "xl/sharedStrings.xml": new_strings})
        run_loader("curriculum-xlsx", "curriculum.xlsx", data)
    prop()


# ------------------------------------------------------------------ SKOS in each RDF format
SKOS_SEED = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <http://example.org/cr/> .
ex:scheme a skos:ConceptScheme ; skos:prefLabel "Clinical reasoning"@en ; skos:notation "cr" .
ex:d1 a skos:Concept ; skos:inScheme ex:scheme ; skos:topConceptOf ex:scheme ; skos:prefLabel "Diagnosis"@en .
ex:c1 a skos:Concept ; skos:inScheme ex:scheme ; skos:broader ex:d1 ; skos:prefLabel "Differential"@en ;
  skos:altLabel "DDx"@en ; skos:definition "Lists the likely causes."@en ; skos:notation "C1" .
"""


@pytest.mark.parametrize("fmt,ext", [("turtle", "ttl"), ("xml", "rdf"), ("json-ld", "jsonld"), ("nt", "nt")])
def test_fuzz_skos_formats(fmt, ext):
    seed = Graph().parse(data=SKOS_SEED, format="turtle").serialize(format=fmt).encode()
    ws = mini_workspace()

    @FUZZ
    @given(mutated([seed]), st.sampled_from([None, fmt]))
    def prop(data, given_fmt):
        opts = {"id": "fz"} | ({"format": given_fmt} if given_fmt else {})
        expect_typed(get("skos").load, Source(name=f"s.{ext}", data=data), Context(ids=ws.ids, options=opts))
    prop()


# ------------------------------------------------------------------ syllabus readers
SYLLABUS_SEEDS = {
    "txt": [b"Course objectives\n1. Describe the anatomy of the heart.\n2. Explain the cardiac cycle.\n"],
    "md": [b"# Syllabus\n\n## Learning objectives\n\n- Describe the anatomy of the heart.\n"
           b"- Explain the cardiac cycle.\n\n| # | Objective |\n|---|---|\n| 1 | Assess a murmur. |\n"],
    "html": [b"<html><body><h2>Learning objectives</h2><ol><li>Describe the anatomy of the heart.</li>"
             b"<li>Explain the <b>cardiac</b> cycle.</li></ol><table><tr><td>1</td><td>Assess a murmur.</td>"
             b"</tr></table></body></html>"],
}


@pytest.mark.parametrize("ext", ["txt", "md", "html"])
def test_fuzz_syllabus_text_readers(ext):
    @FUZZ
    @given(mutated(SYLLABUS_SEEDS[ext]))
    def prop(data):
        expect_typed(syllabus.extract, data, f"s.{ext}")
    prop()


def test_fuzz_syllabus_docx():
    seed = docx()
    body = zipfile.ZipFile(io.BytesIO(seed)).read("word/document.xml")

    @FUZZ
    @given(st.booleans(), mutated([body]), mutated([seed]))
    def prop(structural, new_body, raw):
        data = _rezip(seed, {"word/document.xml": new_body}) if structural else raw
        expect_typed(syllabus.extract, data, "s.docx")
    prop()


def test_fuzz_syllabus_pdf():
    seed = pdf()

    @FUZZ
    @given(mutated([seed], TOKENS + [b"obj", b"endobj", b"stream", b"endstream", b"/Length 99999", b"xref",
                                     b"<< /Type /Page >>", b"(x) Tj", b"/Encrypt 1 0 R", b"R"]))
    def prop(data):
        expect_typed(syllabus.extract, data, "s.pdf")
    prop()
