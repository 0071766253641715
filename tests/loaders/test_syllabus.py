"""Syllabus extraction (issue 5, "Syllabus upload"): the fixture corpus, scored, and every bad-file case.

Thresholds, and why:

* structured syllabi (a list or table under an objectives heading or lead-in): each file P >= 0.9
  and R >= 0.9, and the structured corpus as a whole P, R >= 0.95.  When the document marks its
  objectives, missing or adding one is a bug, not a judgement call; 0.9 leaves room for one slip
  in a file of about eight objectives;
* prose syllabi (no objectives section: the sentence fallback): each file P >= 0.75, R >= 0.6.
  The fallback guesses from verbs and "students will ..." phrasing, misses objectives phrased
  without an action verb ("Students gain an understanding of ..."), and its output is flagged with
  a warning for review; precision matters more than recall there, because the review queue can
  add what was missed but a spurious objective wastes a reviewer's time on every upload.

The corpus was written by the same hand as the extractor, so these figures flatter it: the files
marked ``split: heldout`` / ``heldout2`` in expected.json were written later and scored blind once
(first runs: P/R 0.91/0.91 and 0.75/0.62, kept in ``bench/syllabus_extraction.py``) before the
misses they exposed were fixed.

The per-file table is printed even without ``-s``.  ``bench/syllabus_extraction.py`` prints the
same table and writes ``bench/results/syllabus_extraction.json``.
"""
from __future__ import annotations

import ast
import importlib.util
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from loaders import safety
from loaders.syllabus import (CorruptDocument, EmptyDocument, EncryptedDocument, NoTextLayer, SyllabusError,
                              UnsafeDocument, BLOOM_LEVELS, bloom_level, detect_format, detect_language, extract)
from loaders.syllabus.objectives import is_objective_heading
from ontology.errors import GapmapError, LoadError, PayloadTooLarge, UnsupportedFormat

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "syllabi"
EXPECTED = {k: v for k, v in json.loads((FIX / "expected.json").read_text(encoding="utf-8")).items()
            if not k.startswith("_")}
GOOD = sorted(k for k, v in EXPECTED.items() if "error" not in v)
BAD = sorted(k for k, v in EXPECTED.items() if "error" in v)

_spec = importlib.util.spec_from_file_location("bench_syllabus_extraction", ROOT / "bench" / "syllabus_extraction.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

STRUCTURED_MIN = 0.9
STRUCTURED_CORPUS_MIN = 0.95
PROSE_MIN_P, PROSE_MIN_R = 0.75, 0.6


def _read(name: str) -> bytes:
    return (FIX / name).read_bytes()


def _norm(t: str) -> str:
    return re.sub(r"\s+", " ", t).strip()


# ------------------------------------------------------------------ the corpus
def test_every_fixture_is_listed_and_small():
    on_disk = {p.name for p in FIX.iterdir() if p.name != "expected.json"}
    assert on_disk == set(EXPECTED), "expected.json and the fixture folder disagree"
    for p in FIX.iterdir():
        assert p.stat().st_size < 200_000, p.name
    formats = {EXPECTED[n]["format"] for n in GOOD}
    assert formats == {"pdf", "docx", "html", "markdown", "text"}


@pytest.mark.parametrize("name", GOOD)
def test_fixture_precision_recall(name):
    exp = EXPECTED[name]
    row = bench.score_file(name, exp, FIX)
    assert "error" not in row or row["error"] is None, row.get("message")
    detail = f"{name}: P={row['precision']:.2f} R={row['recall']:.2f} missed={row['missed']} spurious={row['spurious']}"
    if exp["kind"] == "structured":
        assert row["precision"] >= STRUCTURED_MIN and row["recall"] >= STRUCTURED_MIN, detail
    else:
        assert row["precision"] >= PROSE_MIN_P and row["recall"] >= PROSE_MIN_R, detail


@pytest.mark.parametrize("name", GOOD)
def test_fixture_metadata_and_offsets(name):
    exp = EXPECTED[name]
    s = extract(_read(name), name)
    assert s.format == exp["format"]
    assert s.title == exp["title"]
    assert s.course_code == exp["course_code"]
    assert s.language == exp["language"]
    assert s.filename == name
    for o in s.objectives:
        # offsets index the extracted plain text exactly
        assert s.text[o.char_start:o.char_end] == o.text
        assert _norm(o.text) == o.text
        assert o.paragraph >= 1
        assert o.method in ("list", "table", "sentence")
        assert o.bloom_level in (None, *BLOOM_LEVELS)
        if s.format == "pdf":
            assert o.page is not None and 1 <= o.page <= s.pages
        else:
            assert o.page is None
    want_method = {"structured": {"list", "table"}, "prose": {"sentence"}}[exp["kind"]]
    assert {o.method for o in s.objectives} <= want_method
    for text, page in exp.get("pages", {}).items():
        assert [o.page for o in s.objectives if o.text == text] == [page]
    d = s.to_dict()
    json.dumps(d)
    assert "text" not in d and s.to_dict(include_text=True)["text"] == s.text
    assert [o["text"] for o in d["objectives"]] == [o.text for o in s.objectives]


def test_corpus_summary(capsys):
    result = bench.evaluate(FIX)
    with capsys.disabled():
        print("\n\nSyllabus extraction, per file (thresholds: structured P,R >= 0.9; prose P >= 0.75, R >= 0.6)")
        print(bench.table(result))
    structured = result["by_kind"]["structured"]
    assert structured["precision"] >= STRUCTURED_CORPUS_MIN and structured["recall"] >= STRUCTURED_CORPUS_MIN
    assert result["bad_files"]["ok"] == result["bad_files"]["of"]


# ------------------------------------------------------------------ details per format
def test_pdf_numbers_pages_and_bloom():
    s = extract(_read("surg301_objectives.pdf"), "surg301_objectives.pdf")
    assert [o.number for o in s.objectives] == [f"{i}." for i in range(1, 9)]
    assert s.pages == 2
    assert {o.page for o in s.objectives} == {1, 2}
    assert [(o.verb, o.bloom_level) for o in s.objectives][:3] == [
        ("take", "apply"), ("explain", "understand"), ("describe", "understand")]
    assert all(o.method == "list" for o in s.objectives)
    # the assessment and reading lists after the objectives are not objectives
    assert not any("Portfolio" in o.text or "textbook" in o.text for o in s.objectives)


def test_two_column_pdf_reads_columns_in_order():
    s = extract(_read("cardio_two_column.pdf"), "cardio_two_column.pdf")
    t = s.text
    assert t.index("Overview") < t.index("Learning outcomes") < t.index("Perform and document") \
        < t.index("Teaching methods") < t.index("Assessment")
    assert not any("quizzes" in o.text for o in s.objectives)
    assert all(o.text.count("Describe") + o.text.count("Perform") <= 1 for o in s.objectives)


def test_two_column_pdf_with_long_wrapped_items(tmp_path):
    """More wrapped text lines than bullets in the right column, drawn row by row across the columns."""
    canvas = pytest.importorskip("reportlab.pdfgen.canvas")
    from reportlab.lib.utils import simpleSplit

    items = [f"Explain mechanism number {i} of the renal handling of sodium, potassium and water in health, "
             f"in acute kidney injury and in chronic kidney disease, with examples." for i in range(1, 7)]
    left = [("h", "Overview"), ("p", "Renal block. " * 30), ("h", "Learning outcomes")] + [("li", t) for t in items[:2]]
    right = [("li", t) for t in items[2:]] + [("h", "Assessment"), ("p", "A written paper. " * 8)]
    rows = []
    for x, blocks in ((50, left), (310, right)):
        y = 760
        for kind, text in blocks:
            font = "Helvetica-Bold" if kind == "h" else "Helvetica"
            y -= 8
            for k, ln in enumerate(simpleSplit(text, font, 10, 220)):
                y -= 13
                if kind == "li" and k == 0:
                    rows.append((y, x, font, "\u2022"))
                rows.append((y, x + (12 if kind == "li" else 0), font, ln))
    c = canvas.Canvas(str(tmp_path / "two.pdf"))
    c.setFont("Helvetica-Bold", 16)
    c.drawString(50, 800, "NEPH 300 Renal Medicine")
    for y, x, font, text in sorted(rows, key=lambda r: (-r[0], r[1])):
        c.setFont(font, 10)
        c.drawString(x, y, text)
    c.save()
    s = extract((tmp_path / "two.pdf").read_bytes(), "two.pdf")
    assert [o.text for o in s.objectives] == items
    assert s.title == "NEPH 300 Renal Medicine"


def test_docx_table_objectives_keep_row_numbers():
    s = extract(_read("anat_table.docx"), "anat_table.docx")
    assert [o.number for o in s.objectives] == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3"]
    assert {o.method for o in s.objectives} == {"table"}
    assert "Thoracic wall and pleura" not in [o.text for o in s.objectives]  # the timetable table


def test_docx_content_controls_are_read():
    """Template syllabi often wrap sections in content controls (w:sdt); their paragraphs count too."""
    import docx
    from docx.oxml import OxmlElement

    d = docx.Document()
    d.add_paragraph("PAED 330 Child Health", style="Title")
    d.add_heading("Learning objectives", level=1)
    items = [d.add_paragraph(t, style="List Number") for t in
             ("Plot and interpret a growth chart for an infant.", "Recognise the features of a seriously ill child.")]
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    items[0]._p.addprevious(sdt)
    sdt.append(content)
    for p in items:
        content.append(p._p)
    d.add_heading("Assessment", level=1)
    buf = io.BytesIO()
    d.save(buf)
    s = extract(buf.getvalue(), "paed.docx")
    assert [o.text for o in s.objectives] == ["Plot and interpret a growth chart for an infant.",
                                              "Recognise the features of a seriously ill child."]
    assert [o.number for o in s.objectives] == ["1.", "2."]


def test_docx_lead_in_without_heading_stops_at_the_list_end():
    s = extract(_read("pharm_by_the_end.docx"), "pharm_by_the_end.docx")
    assert len(s.objectives) == 6
    assert s.objectives[-1].verb == "appraise" and s.objectives[-1].bloom_level == "evaluate"  # "Critically appraise"
    assert not any("examination" in o.text.lower() for o in s.objectives)


def test_html_nested_list_and_subsection():
    s = extract(_read("micr230_objectives.html"), "micr230_objectives.html", "text/html")
    nums = [o.number for o in s.objectives]
    assert nums[:3] == ["1.", "2.", "3."] and nums[3] is None and nums[5] == "4."
    assert not any(w in s.text for w in ("window.analytics", "font-family"))  # script/style dropped
    assert "Home" not in s.text.split("\n")[0]  # nav dropped
    assert not any("textbook" in o.text for o in s.objectives)


def test_markdown_subheadings_stay_in_the_section():
    s = extract(_read("psyc240_course_goals.md"), "psyc240_course_goals.md")
    assert [o.number for o in s.objectives][2:5] == ["1)", "2)", "3)"]
    assert s.objectives[1].text.endswith("formulate a patient's presentation.")  # lazy continuation joined
    assert not any("Mini-CEX" in o.text for o in s.objectives)


@pytest.mark.parametrize("name,lang,verbs", [
    ("neuro_lernziele_de.pdf", "de", ["erklären", "dokumentieren", "interpretieren", "unterscheiden",
                                       "begründen", "entwickeln"]),
    ("fisio110_objetivos_es.html", "es", ["describir", "explicar", "interpretar", "calcular", "comparar"]),
    ("urg401_objectifs_fr.md", "fr", ["reconnaître", "réaliser", "interpréter", "hiérarchiser", "expliquer"]),
])
def test_non_english_syllabi(name, lang, verbs):
    s = extract(_read(name), name)
    assert s.language == lang
    assert [o.verb for o in s.objectives] == verbs
    assert all(o.bloom_level for o in s.objectives)
    assert all(o.method == "list" for o in s.objectives)


def test_prose_fallback_is_flagged_and_skips_traps():
    s = extract(_read("ph201_prose.txt"), "ph201_prose.txt")
    texts = [o.text for o in s.objectives]
    assert all(o.method == "sentence" for o in s.objectives)
    assert any("objective-like sentences" in w for w in s.warnings)
    traps = ("We describe", "Use of laptops", "Please submit", "Students will work")
    assert not any(t.startswith(traps) for t in texts)


def test_per_session_objective_headings():
    md = """# ANAT 201 Neuroanatomy

## Week 1: Learning objectives

1. Describe the divisions of the nervous system.
2. Name the cranial nerves in order.

## Week 1: Reading

- Chapter 1 of the course textbook.

## Session 2 - Outcomes

- Trace the corticospinal tract from cortex to spinal cord.

## Assessment

- Explain the answer in the written paper.
"""
    s = extract(md.encode(), "neuro.md")
    assert [o.text for o in s.objectives] == ["Describe the divisions of the nervous system.",
                                              "Name the cranial nerves in order.",
                                              "Trace the corticospinal tract from cortex to spinal cord."]


def test_module_heading_is_not_an_objectives_heading():
    assert not is_objective_heading("Module 3: Labour ward")
    assert not is_objective_heading("Assessment objectives and marking")
    for h in ("Learning Objectives", "2. Learning outcomes", "Intended Learning Outcomes (ILOs)", "Course goals",
              "By the end of this course, students will be able to", "Students will…", "Lernziele",
              "Objetivos de aprendizaje", "Objectifs d'apprentissage", "Week 3: Learning objectives", "Aims"):
        assert is_objective_heading(h), h


@pytest.mark.parametrize("text,lang,verb", [
    ("Pharmakologie II\n\nIn diesem Modul lernen die Studierenden die wichtigsten Arzneimittelgruppen kennen. Die "
     "Studierenden können die Wirkmechanismen der Antibiotika erklären. Die Vorlesung findet montags statt.\n",
     "de", "erklären"),
    ("Farmacología\n\nEl curso se imparte en el segundo semestre. Al final del curso, los estudiantes serán capaces "
     "de explicar los mecanismos de acción de los antibióticos. Las clases son los lunes.\n", "es", "explicar"),
    ("Pharmacologie\n\nLe cours a lieu au deuxième semestre. À la fin du cours, les étudiants seront capables de "
     "décrire les mécanismes d'action des antibiotiques. Les séances ont lieu le lundi.\n", "fr", "décrire"),
])
def test_prose_fallback_in_other_languages(text, lang, verb):
    s = extract(text.encode(), "prose.txt")
    assert s.language == lang
    assert len(s.objectives) == 1 and s.objectives[0].verb == verb and s.objectives[0].method == "sentence"


def test_no_objectives_is_a_warning_not_an_error():
    s = extract(_read("orientation_no_objectives.md"), "orientation_no_objectives.md")
    assert s.objectives == ()
    assert any("no learning objectives found" in w for w in s.warnings)
    s = extract(b"Course notes\n\nThe lecture is on Monday. Bring a pen.\n", "notes.txt")
    assert s.objectives == () and s.warnings


def test_owner_password_pdf_opens_with_a_warning():
    s = extract(_read("owner_password_only.pdf"), "owner_password_only.pdf")
    assert len(s.objectives) == 8
    assert any("owner password" in w for w in s.warnings)


# ------------------------------------------------------------------ bad files
@pytest.mark.parametrize("name", BAD)
def test_bad_fixture_raises_the_right_error(name):
    err = EXPECTED[name]["error"]
    with pytest.raises(GapmapError) as ei:
        extract(_read(name), name)
    e = ei.value
    assert type(e).__name__ == err["type"]
    assert e.status == err["status"] and 400 <= e.status < 500
    assert err["message_contains"].lower() in e.message.lower()
    assert e.to_dict()["status"] == e.status and e.details.get("file") == name


def test_scanned_pdf_says_ocr_is_not_done():
    with pytest.raises(NoTextLayer) as ei:
        extract(_read("scanned_no_text.pdf"), "scan.pdf")
    assert "this PDF has no text layer (scanned?); OCR is not done" in ei.value.message
    assert ei.value.details["code"] == "no_text_layer"


def test_encrypted_pdf_says_it_is_encrypted():
    with pytest.raises(EncryptedDocument) as ei:
        extract(_read("encrypted.pdf"), "encrypted.pdf", "application/pdf")
    assert "encrypted" in ei.value.message and ei.value.status == 422


def test_pdf_with_one_scanned_page_warns():
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    for src in ("surg301_objectives.pdf", "scanned_no_text.pdf"):
        for p in PdfReader(io.BytesIO(_read(src))).pages:
            w.add_page(p)
    buf = io.BytesIO()
    w.write(buf)
    s = extract(buf.getvalue(), "mixed.pdf")
    assert s.pages == 3 and len(s.objectives) == 8
    assert any("page(s) 3 have no text layer" in x for x in s.warnings)


def test_truncated_pdf_is_corrupt():
    data = _read("surg301_objectives.pdf")
    for cut in (b"%PDF-1.4\n", data[:40], b"%PDF-1.7\n" + b"\x00garbage" * 50):
        with pytest.raises(CorruptDocument) as ei:
            extract(cut, "broken.pdf")
        assert ei.value.status == 422


def test_oversized_upload_is_413():
    with pytest.raises(PayloadTooLarge) as ei:
        extract(_read("derm310_plain.txt"), "derm.txt", max_bytes=100)
    assert ei.value.status == 413 and "limit" in ei.value.message
    assert ei.value.details["limit"] == 100
    big = b"Learning objectives\n" + b"- Describe things.\n" * (20 * 2**20 // 18 + 1)
    with pytest.raises(PayloadTooLarge):
        extract(big, "big.txt")  # the default limit is 20 MiB


@pytest.mark.parametrize("data,name,media_type,fragment", [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "scan.png", None, ".png"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "syllabus.pdf", None, "PNG image"),
    (b"%PDF-1.4\n...", "syllabus.docx", None, "content is PDF"),
    (b"Learning objectives\n1. Describe x.", "syllabus.pdf", None, "not PDF"),
    (b"Learning objectives\n1. Describe x.", "syllabus.txt", "application/pdf", "not PDF"),
    (b"%PDF-1.4\n...", "syllabus", "text/html", "content is PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 50, "old.doc", None, ".doc"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 50, "old", None, "legacy"),
    (b"MZ\x90\x00", "setup.exe", None, ".exe"),
    (b"{\\rtf1\\ansi hello}", "syllabus.rtf", None, ".rtf"),
    (b"a,b\n1,2\n", "data.csv", None, ".csv"),
    (b"hello", "notes", "application/x-msdownload", "media type"),
    (b"\x00\x01\x02\x03binary", "blob", None, "binary"),
])
def test_wrong_or_unknown_type_is_415(data, name, media_type, fragment):
    with pytest.raises(UnsupportedFormat) as ei:
        extract(data, name, media_type)
    assert ei.value.status == 415
    assert fragment.lower() in ei.value.message.lower()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in entries.items():
            z.writestr(k, v)
    return buf.getvalue()


def test_other_zip_documents_are_415():
    with pytest.raises(UnsupportedFormat, match="spreadsheet"):
        extract(_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}), "book.docx")
    with pytest.raises(UnsupportedFormat, match="zip archive"):
        extract(_zip({"readme.txt": b"hi"}), "archive.docx")


def test_docx_zip_bomb_variants():
    docx_bytes = _read("pharm_by_the_end.docx")
    src = zipfile.ZipFile(io.BytesIO(docx_bytes))
    parts = {n: src.read(n) for n in src.namelist()}
    # too many entries
    many = dict(parts, **{f"word/media/x{i}.bin": b"" for i in range(safety.MAX_ZIP_ENTRIES + 1)})
    with pytest.raises(UnsafeDocument, match="parts"):
        extract(_zip(many), "many.docx")
    # one part with an extreme compression ratio, small enough in total
    ratio = dict(parts, **{"word/media/zeros.bin": b"\0" * (3 * 2**20)})
    with pytest.raises(UnsafeDocument, match="expands"):
        extract(_zip(ratio), "ratio.docx")
    # total uncompressed size over 5 x max_bytes
    with pytest.raises(UnsafeDocument, match="decompress"):
        extract(docx_bytes, "small-limit.docx", max_bytes=len(docx_bytes) + 10)


def test_docx_with_doctype_entities_is_refused_before_python_docx():
    src = zipfile.ZipFile(io.BytesIO(_read("pharm_by_the_end.docx")))
    parts = {n: src.read(n) for n in src.namelist()}
    doc = parts["word/document.xml"]
    evil = doc.replace(b"?>", b'?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', 1)
    parts["word/document.xml"] = evil
    with pytest.raises(UnsafeDocument, match="DOCTYPE"):
        extract(_zip(parts), "evil.docx")


def test_corrupt_docx():
    with pytest.raises(CorruptDocument):
        extract(_read("pharm_by_the_end.docx")[:3000], "cut.docx")
    src = zipfile.ZipFile(io.BytesIO(_read("pharm_by_the_end.docx")))
    parts = {n: src.read(n) for n in src.namelist()}
    parts["word/document.xml"] = b"<w:document><unclosed>"
    with pytest.raises(CorruptDocument, match="not well-formed"):
        extract(_zip(parts), "bad.docx")


@pytest.mark.parametrize("doc", [
    '<!DOCTYPE html [<!ENTITY x "y">]><html><body><h1>T</h1></body></html>',
    '<!DOCTYPE html SYSTEM "http://example.invalid/evil.dtd" [ ]><html></html>',
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><html/>',
])
def test_html_entity_tricks_are_refused(doc):
    with pytest.raises(UnsafeDocument) as ei:
        extract(doc.encode(), "page.html")
    assert ei.value.status == 422


def test_markdown_with_entity_declaration_is_refused():
    with pytest.raises(UnsafeDocument):
        extract(b'# T\n\n<!DOCTYPE x [<!ENTITY a "b">]>\n\n- Describe &a;\n', "t.md")


def test_plain_html_doctype_is_fine():
    s = extract(b"<!DOCTYPE html><html><body><h1>COURSE 101 Intro</h1><h2>Objectives</h2>"
                b"<ul><li>Describe the course.</li></ul></body></html>", "x.html")
    assert [o.text for o in s.objectives] == ["Describe the course."]


@pytest.mark.parametrize("data,name", [(b"", "empty.txt"), (b"   \n\t\n", "blank.md"), (b"\xef\xbb\xbf\n", "bom.txt"),
                                       (b"<html><body><script>x()</script></body></html>", "empty.html")])
def test_empty_documents(data, name):
    with pytest.raises(EmptyDocument) as ei:
        extract(data, name)
    assert ei.value.status == 422


@pytest.mark.parametrize("data", [b"<div>" * 5000 + b"<p>Describe x.</p>" + b"</div>" * 5000,
                                  b"<ul>" * 3000 + b"<li>Describe the x of y.</li>" + b"</ul>" * 3000])
def test_absurdly_nested_html_is_refused_not_crashed(data):
    with pytest.raises(UnsafeDocument, match="nested too deeply"):
        extract(data, "deep.html")


def test_empty_docx():
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    with pytest.raises(EmptyDocument):
        extract(buf.getvalue(), "empty.docx")


def test_error_classes():
    for cls in (CorruptDocument, EncryptedDocument, NoTextLayer, EmptyDocument, UnsafeDocument):
        assert issubclass(cls, SyllabusError) and issubclass(cls, LoadError) and cls.status == 422
        e = cls("x", file="f")
        assert e.to_dict()["code"] == cls.code and e.to_dict()["file"] == "f"
    assert UnsupportedFormat.status == 415 and PayloadTooLarge.status == 413


# ------------------------------------------------------------------ helpers
def test_detect_format_sniffs_when_no_name_says():
    assert detect_format(_read("surg301_objectives.pdf"), "upload", None) == "pdf"
    assert detect_format(_read("anat_table.docx"), "upload", "application/octet-stream") == "docx"
    assert detect_format(b"<!doctype html><html></html>", "upload") == "html"
    assert detect_format(b"# Title\n", "upload", "text/markdown") == "markdown"
    assert detect_format(b"# Title\n", "upload") == "text"
    assert detect_format(b"# Title\n", "notes.md", "text/plain") == "markdown"  # browsers send text/plain for .md
    assert detect_format(b"Syllabus\n", "Syllabus v2.3", None) == "text"
    assert detect_format(b"# About PDFs\n\nA file starts with %PDF-1.7.\n", "pdf-notes.md") == "markdown"


@pytest.mark.parametrize("text,level,verb", [
    ("Describe the anatomy of the heart.", "understand", "describe"),
    ("List the cranial nerves.", "remember", "list"),
    ("Critically appraise a trial.", "evaluate", "appraise"),
    ("Design a quality-improvement project.", "create", "design"),
    ("Students will be able to calculate a drug dose.", "apply", "calculate"),
    ("Differentiates benign from malignant lesions.", "analyze", "differentiate"),
    ("to analyse an arterial blood gas", "analyze", "analyse"),
    ("die Befunde interpretieren", "understand", "interpretieren"),
    ("Evaluar el riesgo cardiovascular.", "evaluate", "evaluar"),
    ("Concevoir un plan de soins.", "create", "concevoir"),
    ("Appreciate the patient's perspective.", None, None),
])
def test_bloom_level(text, level, verb):
    assert bloom_level(text) == (level, verb)


def test_detect_language():
    assert detect_language("The students will learn the anatomy of the heart and the lungs.") == "en"
    assert detect_language("Die Studierenden können die Anatomie des Herzens und der Lunge beschreiben.") == "de"
    assert detect_language("Los estudiantes describen la anatomía del corazón y de los pulmones.") == "es"
    assert detect_language("Les étudiants décrivent l'anatomie du cœur et des poumons dans le cours.") == "fr"
    assert detect_language("ECG 12") is None


def test_course_code_forms():
    for text, code in [("SURG-301 Principles of Surgery", "SURG-301"), ("MED 101: Foundations", "MED 101"),
                       ("Introduction\n\nCourse code: ANAT2010\n", "ANAT2010"),
                       ("Updated MARCH 2026 for ISBN 9780", None)]:
        assert extract(text.encode(), "x.txt").course_code == code


def test_offsets_with_unicode_and_cp1252():
    s = extract("Lernziele\n\n- Die Ätiologie erklären\n- Übungen durchführen\n".encode("cp1252"), "x.txt")
    assert any("Windows-1252" in w for w in s.warnings)
    assert [o.text for o in s.objectives] == ["Die Ätiologie erklären", "Übungen durchführen"]
    for o in s.objectives:
        assert s.text[o.char_start:o.char_end] == o.text


def test_never_imports_flask():
    modules = sorted((ROOT / "loaders" / "syllabus").glob("*.py"))
    assert len(modules) >= 10, modules  # the package, one module per stage
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(n == "flask" or n.startswith("flask.") or n.startswith("werkzeug") for n in names), path


# ------------------------------------------------------------------ issue 9 layouts
def test_typed_tab_numbering_runs_across_bold_subheadings():
    s = extract(_read("peds430_typed_tabs.docx"), "peds430_typed_tabs.docx")
    assert [o.number for o in s.objectives] == [f"{i}." for i in range(1, 8)]
    assert all(o.method == "list" for o in s.objectives)
    assert s.objectives[-1].text.startswith("Disclose a medication error")


@pytest.mark.parametrize("name", ["famm350_nested_domains.html", "famm351_nested_domains.md"])
def test_numbered_domain_labels_are_not_objectives(name):
    s = extract(_read(name), name)
    texts = [o.text for o in s.objectives]
    assert not {"Patient Care", "Interpersonal and Communication Skills", "Systems-Based Practice"} & set(texts)
    assert len(texts) == 6 and all(o.bloom_level for o in s.objectives)


def test_printed_pdf_title_beats_metadata_title():
    s = extract(_read("emed410_meta_title.pdf"), "emed410_meta_title.pdf")
    assert s.title == "EMED 410 Emergency Medicine Clerkship" and s.course_code == "EMED 410"


@pytest.mark.parametrize("verb", ["Lead", "Collaborate", "Coordinate", "Give", "Disclose", "Triage", "Escalate",
                                  "Advocate", "Negotiate", "Reconcile", "Facilitate", "Delegate", "Palpate"])
def test_common_clinical_objective_verbs_have_a_bloom_level(verb):
    level, v = bloom_level(f"{verb} the plan with the patient and the team.")
    assert level in BLOOM_LEVELS and v == verb.lower()


def test_assessment_section_components_with_weights():
    s = extract(_read("emed410_meta_title.pdf"), "emed410_meta_title.pdf")
    assert [(a.kind, a.weight, a.pass_fail) for a in s.assessments] == [
        ("workplace-based assessment", 0.2, False), ("written exam", 0.5, False), ("preceptor evaluation", 0.3, False)]
    for a in s.assessments:
        assert a.title.lower() in s.text[a.char_start:a.char_end].lower()
    s = extract(_read("imed420_assessment.md"), "imed420_assessment.md")
    assert ("professionalism", None, True) in [(a.kind, a.weight, a.pass_fail) for a in s.assessments]
    assert abs(sum(a.weight or 0 for a in s.assessments) - 1.0) < 1e-9


def test_no_assessments_outside_an_assessment_section():
    text = ("# ANAT 101\n\n## Learning objectives\n\n- Perform a physical examination of the knee.\n"
            "- Describe the written examination findings of the OSCE literature.\n\n## Reading\n\nExam tips: 50%\n")
    s = extract(text.encode(), "anat.md")
    assert s.assessments == ()
    s = extract(b"COURSE X\n\nAssessment:\nFinal exam 70%\nLogbook (pass/fail)\nQuiz 30%\n\nReading:\nBook 1\n", "x.txt")
    assert [(a.kind, a.weight, a.pass_fail) for a in s.assessments] == [
        ("written exam", 0.7, False), ("portfolio", None, True), ("written exam", 0.3, False)]
