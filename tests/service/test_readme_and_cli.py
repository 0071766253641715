"""The README's SPARQL examples run against the bundled data; the CLI loads, reports and fails cleanly."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import main
from tests.conftest import signed_client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundled_client(tmp_path_factory):
    from service.app import create_app
    from service.extensions import gapmap
    app = create_app({"STORE_PATH": "", "TESTING": True, "CACHE_DIR": str(tmp_path_factory.mktemp("c"))})
    with app.app_context():
        gapmap().load_manifest(ROOT / "data" / "manifest.json")
    return signed_client(app, "viewer")


def _readme_queries():
    return re.findall(r"```sparql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_three_sparql_examples():
    assert len(_readme_queries()) >= 3


@pytest.mark.parametrize("i", range(3))
def test_readme_sparql_examples_answer(bundled_client, i):
    q = _readme_queries()[i]
    r = bundled_client.post("/sparql", data={"query": q}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.get_data(as_text=True)
    rows = r.get_json()["results"]["bindings"]
    assert rows
    if i == 0:  # never taught = not taught + assessed but not taught (the planted gaps)
        planted = json.loads((ROOT / "data" / "planted_gaps.json").read_text())
        assert {b["notation"]["value"] for b in rows} == set(planted["not_taught"] + planted["assessed_not_taught"])


def test_cli_load_report_and_errors(tmp_path):
    runner = CliRunner()
    store = ["--store", str(tmp_path / "store")]
    mini = ROOT / "tests" / "fixtures" / "mini"
    r = runner.invoke(main, [*store, "init", "--data", str(mini), "--no-align"])
    assert r.exit_code == 0, r.output
    assert "loaded curriculum.csv" in r.output
    r = runner.invoke(main, [*store, "report", "mini", "--role", "resident"])
    assert r.exit_code == 0, r.output
    assert "not_taught" in r.output and "CM1" in r.output
    r = runner.invoke(main, [*store, "report", "mini", "--format", "csv"])
    assert r.output.splitlines()[0].startswith("domain,domain_label,competency")
    # bad input: one line naming file, row and column, exit code 3, and nothing written
    bad = tmp_path / "roles.csv"
    bad.write_text((mini / "roles.csv").read_text().replace(",PC2,2,", ",PC2,two,"))
    r = runner.invoke(main, [*store, "load", "roles-csv", str(bad), "-o", "id=mini-roles", "-o", "framework=mini"])
    assert r.exit_code == 3
    assert "roles.csv:3 [column required_level]" in r.output
    r = runner.invoke(main, [*store, "report", "nope"])
    assert r.exit_code == 4 and "not loaded" in r.output
    # finding #7: the year is range-checked as in the API (a usage error, not 61 "not taught")
    for y in ("9", "0"):
        r = runner.invoke(main, [*store, "report", "mini", "--year", y])
        assert r.exit_code == 2 and "--year" in r.output and "1<=x<=8" in r.output, r.output
    # finding #25: an option naming a missing framework names the file too
    cur = tmp_path / "cur.csv"
    cur.write_text((mini / "curriculum.csv").read_text())
    r = runner.invoke(main, [*store, "load", "curriculum-csv", str(cur), "-o", "framework=nosuch"])
    assert r.exit_code == 3 and "error: cur.csv [column framework]: framework 'nosuch' is not loaded" in r.output, r.output
    r = runner.invoke(main, [*store, "readiness", "mini", "intern"])
    assert json.loads(r.output)["summary"]["essential"]["required"] == 2


@pytest.mark.parametrize("name,value,says", [
    ("GAPMAP_LINK_SHORTLIST", "abc", "GAPMAP_LINK_SHORTLIST must be a whole number, not 'abc'"),
    ("GAPMAP_LINK_SHORTLIST", "-3", "GAPMAP_LINK_SHORTLIST must be a whole number from 0"),
    ("GAPMAP_ALIGN_TOP_K", "three", "GAPMAP_ALIGN_TOP_K must be a whole number, not 'three'"),
    ("GAPMAP_SPARQL_TIMEOUT", "soon", "GAPMAP_SPARQL_TIMEOUT must be a number, not 'soon'"),
])
def test_cli_names_a_bad_environment_variable(tmp_path, monkeypatch, name, value, says):
    """A malformed GAPMAP_* value is one line naming the variable and exit 1, not a traceback."""
    monkeypatch.setenv(name, value)
    r = CliRunner().invoke(main, ["--store", str(tmp_path / "s"), "report", "x"])
    assert r.exit_code == 1 and says in r.output and "Traceback" not in r.output, r.output
    assert not isinstance(r.exception, ValueError)


def test_cli_syllabus(tmp_path):
    runner = CliRunner()
    store = ["--store", str(tmp_path / "store")]
    mini, syl = ROOT / "tests" / "fixtures" / "mini", ROOT / "tests" / "fixtures" / "syllabi"
    assert runner.invoke(main, [*store, "init", "--data", str(mini), "--no-align"]).exit_code == 0
    # finding #19: --user must be an account of the institution that may upload to the course
    r = runner.invoke(main, [*store, "syllabus", "mini", "SURG-301", str(syl / "surg301_objectives.pdf"),
                             "--user", "dr.ghost", "--year", "3", "--no-align"])
    assert r.exit_code == 2 and "no user 'dr.ghost'" in r.output, r.output
    assert runner.invoke(main, [*store, "user", "add", "dr.v", "--role", "viewer"]).exit_code == 0
    r = runner.invoke(main, [*store, "syllabus", "mini", "SURG-301", str(syl / "surg301_objectives.pdf"),
                             "--user", "dr.v", "--no-align"])
    assert r.exit_code == 2 and "may not upload" in r.output, r.output
    r = runner.invoke(main, [*store, "syllabus", "mini", "SURG-301", str(syl / "surg301_objectives.pdf"),
                             "--user", "dr.x", "--year", "9", "--no-align"])
    assert r.exit_code == 2 and "--year" in r.output  # 1-8, as the API
    assert runner.invoke(main, [*store, "user", "add", "dr.x", "--role", "educator", "--course", "SURG-301"]).exit_code == 0
    r = runner.invoke(main, [*store, "syllabus", "mini", "SURG-301", str(syl / "surg301_objectives.pdf"),
                             "--user", "dr.x", "--year", "3", "--no-align"])
    assert r.exit_code == 0, r.output
    assert "version 1: 8 objectives" in r.output and "p.2" in r.output
    r = runner.invoke(main, [*store, "syllabus", "mini", "SURG-301", str(syl / "scanned_no_text.pdf"), "--user", "dr.x"])
    assert r.exit_code == 3 and "no text layer" in r.output


def test_cli_load_detects_the_loader(tmp_path):
    """`gapmap load PATH` without a loader name: the loader is chosen from the file (a CSV by its header)."""
    runner = CliRunner()
    store = ["--store", str(tmp_path / "store")]
    mini = ROOT / "tests" / "fixtures" / "mini"
    assert runner.invoke(main, [*store, "init", "--data", str(mini), "--no-align"]).exit_code == 0
    roles = tmp_path / "my-roles.csv"
    roles.write_text((mini / "roles.csv").read_text())
    r = runner.invoke(main, [*store, "load", str(roles), "-o", "id=mini-roles", "-o", "framework=mini"])
    assert r.exit_code == 0, r.output
    assert "loader: roles-csv" in r.output and json.loads(r.output[r.output.index("{"):])["summary"]["requirements"]
    r = runner.invoke(main, [*store, "load", "no-such-loader", str(roles)])
    assert r.exit_code == 4 and "no loader named" in r.output  # a name lookup: not found
    odd = tmp_path / "x.bin"
    odd.write_bytes(b"\x00\x01")
    r = runner.invoke(main, [*store, "load", str(odd)])
    assert r.exit_code == 2 and "no loader reads" in r.output  # unsupported format
