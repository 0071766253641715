"""The loader table: lazy imports, names as 404s, detection by media type, extension and content."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import loaders
from loaders import Loader, detect, get, loader_class, plugins
from loaders.syllabus import detect as syllabus_detect
from ontology.errors import LoadError, NotFound, UnsupportedFormat

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini"
DATA = ROOT / "data"


def test_every_row_names_a_loader_class_of_that_name():
    table = plugins()
    assert len(table) >= 20 and "syllabus" in table
    for name, plugin in table.items():
        cls = loader_class(name)
        assert issubclass(cls, Loader) and cls.name == name, plugin
        assert all(e.startswith(".") and e == e.lower() for e in plugin.extensions), plugin


def test_unknown_name_is_a_404_naming_the_field():
    with pytest.raises(NotFound) as e:
        get("pdf-magic")
    assert e.value.status == 404 and e.value.details["field"] == "loader" and "curriculum-csv" in str(e.value)
    with pytest.raises(NotFound):
        get(["not", "a", "name"])


def test_nothing_is_imported_before_it_is_asked_for():
    code = ("import sys, loaders; t = loaders.plugins(); n = loaders.detect('s.pdf');"
            "before = sorted(m for m in sys.modules if m.startswith('loaders.') and m not in"
            " ('loaders.base', 'loaders.registry'));"
            "loaders.get('skos'); after = sorted(m for m in sys.modules if m.startswith('loaders.'));"
            "print(n, before, 'loaders.curriculum' in after, 'loaders.skos' in after)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["syllabus", "[]", "False", "True"]


def test_syllabus_row_matches_what_the_reader_reads():
    """The table's extensions and media types for the syllabus reader are the ones it accepts (no drift)."""
    row = plugins()["syllabus"]
    assert set(row.extensions) == set(syllabus_detect._EXT)
    assert set(row.media_types) == set(syllabus_detect._MEDIA)


@pytest.mark.parametrize("filename,media_type,expected", [
    ("notes.pdf", None, "syllabus"), ("Syllabus.DOCX", None, "syllabus"), ("x.md", "text/markdown", "syllabus"),
    ("upload", "application/pdf", "syllabus"), ("x.ttl", None, "skos"), ("x.nt", "application/n-triples", "skos"),
    ("ci.xml", "application/vnd.medbiq.ci+xml", "medbiq-ci"), ("pkg.json", "application/case+json", "case"),
    ("c.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "curriculum-xlsx"),
    # the extension decides when the media type is of another kind (browsers send text/plain for .csv)
    ("s.txt", "application/octet-stream", "syllabus"),
])
def test_detect_by_media_type_and_extension(filename, media_type, expected):
    assert detect(filename=filename, media_type=media_type) == expected


def test_detect_refuses_what_no_loader_reads():
    for filename, mt in (("photo.png", "image/png"), ("x.bin", None), ("noext", None)):
        with pytest.raises(UnsupportedFormat) as e:
            detect(filename=filename, media_type=mt)
        assert e.value.status == 415 and e.value.details["field"] == "loader"


@pytest.mark.parametrize("path,expected", [
    (MINI / "curriculum.csv", "curriculum-csv"), (MINI / "framework.csv", "framework-csv"),
    (MINI / "roles.csv", "roles-csv"), (MINI / "assessments.csv", "assessments-csv"),
    (MINI / "results.csv", "results-csv"), (DATA / "people" / "people.csv", "people-csv"),
    (DATA / "people" / "evidence.csv", "evidence-csv"), (DATA / "people" / "milestones.csv", "milestones-csv"),
    (DATA / "people" / "credentials.csv", "credentials-csv"), (DATA / "catalogue" / "catalogue.csv", "catalogue-csv"),
    (DATA / "catalogue" / "badges.jsonld", "badges-ob3"),
])
def test_detect_tells_loaders_of_one_kind_apart_by_content(path, expected):
    data = path.read_bytes()
    assert detect(filename=path.name, media_type="text/csv" if path.suffix == ".csv" else None, data=data) == expected


def test_detect_without_content_or_with_unfitting_content_asks_for_the_name():
    with pytest.raises(LoadError, match="name the loader") as e:
        detect(filename="x.csv")  # several loaders read CSV: the content is needed
    assert e.value.status == 422 and e.value.column == "loader"
    with pytest.raises(LoadError, match="fits none"):
        detect(filename="x.csv", data=b"a,b\n1,2\n")


def test_detected_loader_loads_the_file():
    from ontology.ids import Ids
    src = loaders.Source.from_path(MINI / "framework.csv")
    name = detect(filename=src.name, data=src.data)
    delta = get(name).load(src, loaders.Context(ids=Ids(), options={"id": "mini"}))
    assert name == "framework-csv" and delta.summary and len(delta) > 0


def test_register_adds_a_row_without_importing(monkeypatch):
    from loaders import registry
    monkeypatch.setattr(registry, "_TABLE", dict(registry._TABLE))
    monkeypatch.setattr(registry, "_CLASSES", dict(registry._CLASSES))
    registry.register("my-csv", "no.such.module", "Nope", extensions=(".MYCSV",))
    assert plugins()["my-csv"].extensions == (".mycsv",)
    assert detect(filename="a.mycsv") == "my-csv"
    with pytest.raises(ModuleNotFoundError):
        get("my-csv")  # imported only now


def test_a_syllabus_loads_through_the_loader_interface():
    """``syllabus`` is a loader like any other: Workspace.load stores a new version each time, with its history,
    exactly as the syllabus upload does (which uses the same loader)."""
    from service.config import Config
    from service.workspace import Workspace

    cfg = Config()
    cfg.STORE_PATH = ""
    ws = Workspace.from_config(cfg)
    ws.load_manifest(MINI / "manifest.json")
    src = loaders.Source.from_path(ROOT / "tests" / "fixtures" / "syllabi" / "derm310_plain.txt")
    assert detect(filename=src.name, data=src.data) == "syllabus"
    opts = {"program": "mini", "course": "DERM-310", "year": "3", "user": "dr.chen"}
    first = ws.load("syllabus", src, opts)
    assert first.summary["version"] == 1 and first.summary["objectives"] >= 3
    second = ws.load("syllabus", src, opts)
    assert second.summary["version"] == 2 and second.summary["objectives"] == first.summary["objectives"]
    history = ws.syllabus_history("DERM-310")
    assert [h["version"] for h in history] == [2, 1] and {h["user"] for h in history} == {"dr.chen"}
    with pytest.raises(LoadError, match="year"):
        ws.load("syllabus", src, {"program": "mini", "course": "NEW-1", "user": "dr.chen"})  # new: needs a year
    with pytest.raises(NotFound):
        ws.load("syllabus", src, {"program": "nope", "course": "NEW-1", "year": 2, "user": "dr.chen"})


def test_detect_reads_a_workbook_header():
    """Two loaders read .xlsx: the first row of the first sheet tells them apart."""
    import io

    import pandas as pd

    from loaders.case import SALT_REQUIRED
    from loaders.curriculum import REQUIRED

    def workbook(columns):
        buf = io.BytesIO()
        pd.DataFrame([["x"] * len(columns)], columns=columns).to_excel(buf, index=False)
        return buf.getvalue()

    assert detect(filename="c.xlsx", data=workbook(REQUIRED + ["level"])) == "curriculum-xlsx"
    assert detect(filename="salt.xlsx", data=workbook(SALT_REQUIRED)) == "case-csv"
    with pytest.raises(LoadError, match="fits none"):
        detect(filename="other.xlsx", data=workbook(["a", "b"]))
