"""Committee exports: XLSX (sheets, frozen headers, filters, heatmap fills, formula-safe cells), printable HTML
and PDF with the heatmap picture; they open in LibreOffice and render with pdftoppm; the dashboard links them."""
from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.committee import LEVEL_FILLS, STATUS_FILLS, safe

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


def loaded_app(app, folder=MINI):
    from service.extensions import gapmap
    with app.app_context():
        gapmap().load_manifest(folder / "manifest.json")
    from tests.conftest import signed_client
    return signed_client(app, "viewer")


@pytest.fixture
def client(app):
    app.config["MIN_GROUP_SIZE"] = 1  # the mini fixture's cohorts are tiny; suppression has its own tests
    return loaded_app(app)


@pytest.fixture
def xlsx(client, auth):
    r = client.get("/api/programs/mini/committee.xlsx", headers=auth("committee"))
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in r.headers["Content-Disposition"]
    return r.data


def rgb(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:].upper()


def test_workbook_sheets_headers_filters(xlsx):
    wb = load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames == ["Gap report", "Curriculum map", "Role readiness", "Cohort achievement", "About"]
    for ws in wb.worksheets:
        assert ws.freeze_panes in ("A2", "C2"), ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert ws["A1"].font.b
    gaps = wb["Gap report"]
    rows = {r[1]: r for r in gaps.iter_rows(min_row=2, values_only=True)}
    assert rows["CM1"][3] == "not taught" and rows["PC1"][3] == "covered"
    assert set(rows) == {"CM1", "CM2", "PC1", "PC2", "PC2.1", "PC3"}
    for cell in gaps["D"][1:]:
        want = next(f for f, label in STATUS_FILLS.values() if label == cell.value)
        assert rgb(cell) == want


def test_curriculum_map_has_heatmap_fills(xlsx):
    ws = load_workbook(io.BytesIO(xlsx))["Curriculum map"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Competency", "Label", "MED-101 (Y1)", "MED-201 (Y2)"]
    by = {row[0].value: row for row in ws.iter_rows(min_row=2)}
    # PC2.1 taught at level 2 in MED-101 (O2), not in MED-201
    assert by["PC2.1"][2].value == 2 and rgb(by["PC2.1"][2]) == LEVEL_FILLS[2]
    assert by["PC2.1"][3].value in (None, "") and by["PC2.1"][3].fill.fill_type is None
    # CM1 is nowhere
    assert all(c.value in (None, "") for c in by["CM1"][2:4])
    # PC3 is assessed in MED-201 but not taught: marked A
    assert by["PC3"][3].value == "A"


def test_readiness_and_achievement_sheets(xlsx):
    wb = load_workbook(io.BytesIO(xlsx))
    ready = list(wb["Role readiness"].iter_rows(min_row=2, values_only=True))
    assert {r[1] for r in ready} == {"intern", "resident"}
    res = {(r[1], r[2]): r for r in ready}
    assert res[("resident", "PC2")][7] in ("ready", "below level", "gap")
    ach = list(wb["Cohort achievement"].iter_rows(min_row=2, values_only=True))
    assert ach and all(0 <= r[4] <= 1 for r in ach)


def test_filters_apply(client, auth):
    r = client.get("/api/programs/mini/committee.xlsx?year=1", headers=auth("committee"))
    ws = load_workbook(io.BytesIO(r.data))["Curriculum map"]
    assert [c.value for c in ws[1]] == ["Competency", "Label", "MED-101 (Y1)", "Status"]
    about = {r[0]: r[1] for r in load_workbook(io.BytesIO(r.data))["About"].iter_rows(values_only=True)}
    assert about["Filter: year"] == "1"


def test_formula_like_text_is_inert(app, auth, tmp_path):
    """A label starting with = + - @ (or tab/CR) is written as text, never as a formula."""
    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    fw = folder / "framework.csv"
    text = fw.read_text("utf-8")
    assert "Breaking bad news" in text
    fw.write_text(text.replace("Breaking bad news", "=HYPERLINK(\"http://evil/\";\"x\")"), "utf-8")
    client = loaded_app(app, folder)
    r = client.get("/api/programs/mini/committee.xlsx", headers=auth("committee"))
    ws = load_workbook(io.BytesIO(r.data))["Gap report"]
    labels = {row[1].value: row[2] for row in ws.iter_rows(min_row=2)}
    cell = labels["CM1"]
    assert cell.data_type == "s" and cell.value == "'=HYPERLINK(\"http://evil/\";\"x\")"
    for v in ("+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe(v) == "'" + v
    assert safe("Plain") == "Plain" and safe(3) == 3


def test_html_report(client, auth):
    r = client.get("/api/programs/mini/committee.html?role=resident", headers=auth("committee"))
    assert r.status_code == 200 and r.mimetype == "text/html"
    body = r.get_data(as_text=True)
    assert 'src="data:image/png;base64,' in body and "Readiness: " in body and "@page" in body
    assert "role = resident" in body


def test_unknown_format_and_program(client, auth):
    assert client.get("/api/programs/mini/committee.docx", headers=auth("committee")).status_code == 400
    assert client.get("/api/programs/nope/committee.xlsx", headers=auth("committee")).status_code == 404


def test_dashboard_links_the_exports(client, auth):
    page = client.get("/programs/mini?year=1", headers=auth("committee")).get_data(as_text=True)
    for ext in ("xlsx", "pdf", "html"):
        assert f"/api/programs/mini/committee.{ext}?year=1" in page
    assert "/api/programs/mini/curriculum-inventory" in page
    assert "/api/frameworks/mini/case" in client.get("/frameworks/mini").get_data(as_text=True)


def test_xlsx_opens_in_libreoffice(xlsx, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed: make browsers installs libreoffice-calc-nogui")
    src = tmp_path / "committee.xlsx"
    src.write_bytes(xlsx)
    out = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
                          "--convert-to", "csv", "--outdir", str(tmp_path), str(src)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    csv = (tmp_path / "committee.csv").read_text("utf-8")
    assert "CM1" in csv and "not taught" in csv
    assert "Error" not in out.stderr


def test_pdf_renders(client, auth, tmp_path):
    r = client.get("/api/programs/mini/committee.pdf", headers=auth("committee"))
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed: make browsers installs it")
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(r.data)
    out = subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not out.stderr.strip(), out.stderr
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages and all(p.stat().st_size > 1000 for p in pages)
