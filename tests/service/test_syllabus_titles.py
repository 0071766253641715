"""Course titles from an uploaded syllabus (findings #6, #31): a PDF's placeholder metadata title never names
the course (the printed heading does), and a title that starts with the course code is stored without it."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from loaders.syllabus import extract
from loaders.syllabus.metadata import course_title, junk_title
from service.app import create_app
from tests.conftest import bearer, signed_client

TESTS = Path(__file__).resolve().parents[1]
MINI = TESTS / "fixtures" / "mini"
U: dict = {}

OBJECTIVES = ["Recognise the toxidromes of common poisonings in the emergency department.",
              "Manage a patient after a paracetamol overdose using the treatment nomogram.",
              "Explain the indications for extracorporeal removal of a toxin."]


def _reportlab_pdf(heading: str, meta_title: str | None = None) -> bytes:
    """A syllabus as reportlab's platypus writes it: its metadata title is "(anonymous)" unless set."""
    pytest.importorskip("reportlab")
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import ListFlowable, Paragraph, SimpleDocTemplate

    st = getSampleStyleSheet()
    buf = io.BytesIO()
    kw = {"title": meta_title} if meta_title is not None else {}
    doc = SimpleDocTemplate(buf, **kw)
    doc.build([Paragraph(heading, st["Title"]),
               Paragraph("An elective in clinical toxicology for final-year students.", st["Normal"]),
               Paragraph("Learning objectives", st["Heading2"]),
               ListFlowable([Paragraph(o, st["Normal"]) for o in OBJECTIVES], bulletType="1")])
    return buf.getvalue()


@pytest.mark.parametrize("meta", [None, "(anonymous)", "untitled", "Microsoft Word - tox440.docx", "Document1",
                                  "(unspecified)", "[Untitled]"])
def test_placeholder_pdf_metadata_title_loses_to_the_printed_heading(meta):
    data = _reportlab_pdf("TOX-440 Clinical Toxicology Elective", meta)
    if meta is None:  # reportlab's own default, as the tester's file had it
        from pypdf import PdfReader
        assert PdfReader(io.BytesIO(data)).metadata.title == "(anonymous)"
    s = extract(data, "tox440.pdf")
    assert s.title == "TOX-440 Clinical Toxicology Elective"
    assert s.course_code == "TOX-440"


def test_a_real_metadata_title_still_counts():
    assert not junk_title("Clinical Toxicology Elective")
    assert not junk_title("TOX-440 Clinical Toxicology")
    assert junk_title("(anonymous)") and junk_title("Untitled document") and junk_title("syllabus.pdf")


@pytest.mark.parametrize("title,code,want", [
    ("GER-420 Geriatric Medicine Selective", "GER-420", "Geriatric Medicine Selective"),
    ("GER 420: Geriatric Medicine", "GER-420", "Geriatric Medicine"),
    ("ger420 – Geriatric Medicine", "GER-420", "Geriatric Medicine"),
    ("GER-420 · Geriatric Medicine", "GER-420", "Geriatric Medicine"),
    ("GER-420", "GER-420", "GER-420"),  # only the code: kept (better than an empty title)
    ("Geriatric Medicine (GER-420)", "GER-420", "Geriatric Medicine (GER-420)"),
    ("GER-4201 Advanced Geriatrics", "GER-420", "GER-4201 Advanced Geriatrics"),  # another code
    (None, "GER-420", None),
])
def test_course_title_drops_the_leading_code(title, code, want):
    assert course_title(title, code) == want


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app({"STORE_PATH": "", "TESTING": True, "CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
                      "MAX_UPLOAD_BYTES": 2 * 2**20})
    with app.app_context():
        from service.extensions import gapmap
        gapmap().load_manifest(MINI / "manifest.json")
    U.clear()
    U.update(bearer(app, "committee", "dr.titles"))
    return signed_client(app, "viewer")


def _course(client, code):
    courses = client.get("/api/programs/mini/courses").get_json()["courses"]
    return next(c for c in courses if c["code"] == code)


def test_uploaded_course_title_is_the_printed_heading_without_the_code(client):
    """The tester's two files: a reportlab PDF with "(anonymous)" metadata, headed with the code and title."""
    for code, heading in (("TOX-440", "TOX-440 Clinical Toxicology Elective"),
                          ("GER-420", "GER-420 Geriatric Medicine Selective")):
        r = client.post(f"/api/programs/mini/courses/{code}/syllabus",
                        data={"file": (io.BytesIO(_reportlab_pdf(heading)), f"{code.lower()}.pdf"), "year": "4"},
                        headers=U, content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()
        assert _course(client, code)["title"] == heading.split(" ", 1)[1]
