"""Issue 8, uploads: the same defences for every format (zip, XML entities, JSON-LD nesting and
remote contexts, bad IRIs, row limits), each a clear 4xx before anything big is read."""
from __future__ import annotations

import io
import json
import socket
import threading
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from rdflib import Graph

from loaders import Context, Source, get, syllabus
from loaders import safety
from ontology.errors import GapmapError, InputTooLarge

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
CURRICULUM_HEADER = ("program_id,program_title,year,course_code,course_title,session_id,session_title,"
                     "objective_id,objective_text,level,competencies")


_MINI_STORE = None


def _mini_store():
    """A store with the mini fixtures loaded (curriculum loaders resolve competencies in it)."""
    global _MINI_STORE
    if _MINI_STORE is None:
        from service.config import Config
        from service.workspace import Workspace
        cfg = Config()
        cfg.STORE_PATH = ""
        ws = Workspace.from_config(cfg)
        ws.load_manifest(MINI / "manifest.json")
        _MINI_STORE = ws
    return _MINI_STORE


def load(loader: str, name: str, data: bytes | str, **options):
    if isinstance(data, str):
        data = data.encode()
    ws = _mini_store()
    return get(loader).load(Source(name=name, data=data), Context(ids=ws.ids, store=ws.store, options=options))


def refused(loader, name, data, **options) -> GapmapError:
    with pytest.raises(GapmapError) as ei:
        load(loader, name, data, **options)
    assert 400 <= ei.value.status < 500
    return ei.value


# ------------------------------------------------------------------ XLSX zip bombs
def _xlsx_with_cell(size: int) -> bytes:
    """A structurally valid workbook whose one shared string is ``size`` bytes long."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/></Types>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                   'spreadsheetml/2006/main"><sheets><sheet name="S" sheetId="1"/></sheets></workbook>')
        z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats'
                   '.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
                   '</sheetData></worksheet>')
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    b"<si><t>")
            chunk = b"A" * 2**20
            for _ in range(size // len(chunk)):
                f.write(chunk)
            f.write(b"</t></si></sst>")
    return buf.getvalue()


@pytest.fixture(scope="module")
def xlsx_bomb() -> bytes:
    data = _xlsx_with_cell(300 * 2**20)
    assert len(data) < 1_000_000  # a few hundred KB on the wire
    return data


def test_xlsx_with_a_300_mib_cell_is_refused_unread(xlsx_bomb):
    tracemalloc.start()
    try:
        err = refused("curriculum-xlsx", "bomb.xlsx", xlsx_bomb, framework="mini")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(err, InputTooLarge) and err.status == 413
    assert "zip bomb" in err.message and err.file == "bomb.xlsx"
    assert peak < 16 * 2**20  # nothing was inflated (the file itself is ~300 KB)


def test_xlsx_bomb_through_the_api_is_413(xlsx_bomb, app, auth):
    resp = app.test_client().post("/api/load/curriculum-xlsx", headers=auth("admin"),
                                  data={"file": (io.BytesIO(xlsx_bomb), "bomb.xlsx"), "framework": "mini"},
                                  content_type="multipart/form-data")
    assert resp.status_code == 413, resp.get_data(as_text=True)
    assert "zip bomb" in resp.get_json()["detail"]


def test_xlsx_too_many_parts_and_unsupported_zip_version():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(safety.MAX_ZIP_ENTRIES + 1):
            z.writestr(f"x/{i}.xml", "")
    assert refused("curriculum-xlsx", "many.xlsx", buf.getvalue(), framework="mini").status == 413
    err = refused("curriculum-xlsx", "v.xlsx", _with_zip_version(_xlsx_with_cell(10), 99), framework="mini")
    assert err.status == 422 and "version" in err.message


def test_xlsx_not_a_zip_is_422():
    err = refused("curriculum-xlsx", "junk.xlsx", b"PK\x03\x04 not really", framework="mini")
    assert err.status == 422 and "not a readable zip" in err.message


def _with_zip_version(data: bytes, version: int) -> bytes:
    """The same zip with every entry claiming to need zip ``version`` (e.g. 99 = 9.9) to extract."""
    b = bytearray(data)
    i = 0
    while (i := b.find(b"PK\x01\x02", i)) >= 0:  # central directory: version needed at +6
        b[i + 6] = version
        i += 4
    i = 0
    while (i := b.find(b"PK\x03\x04", i)) >= 0:  # local headers: version needed at +4
        b[i + 4] = version
        i += 4
    return bytes(b)


def test_docx_unsupported_zip_version_is_422_not_500():
    src = Path(__file__).resolve().parents[1] / "fixtures" / "syllabi" / "ethics_prose.docx"
    data = _with_zip_version(src.read_bytes(), 99)
    with pytest.raises(GapmapError) as ei:
        syllabus.extract(data, "v.docx")
    assert ei.value.status == 422 and "version" in ei.value.message


# ------------------------------------------------------------------ row limits
def test_row_limit_names_the_limit(monkeypatch):
    monkeypatch.setattr(safety, "_MAX_ROWS", 10)  # what the service sets from MAX_UPLOAD_ROWS
    rows = [CURRICULUM_HEADER] + [f"mini,Mini,1,C{i},Course,S1,S,O{i},Take a history.,1,PC1" for i in range(11)]
    err = refused("curriculum-csv", "big.csv", "\n".join(rows), framework="mini")
    assert isinstance(err, InputTooLarge) and err.status == 413
    assert "10" in err.message and "GAPMAP_MAX_UPLOAD_ROWS" in err.message
    fw = (MINI / "framework.csv").read_text().splitlines()
    err = refused("framework-csv", "fw.csv", "\n".join(fw[:1] + [f"X{i},domain,,D{i},d,," for i in range(11)]),
                  id="x", title="X")
    assert err.status == 413


def test_row_limit_xlsx(monkeypatch):
    from openpyxl import Workbook
    monkeypatch.setattr(safety, "_MAX_ROWS", 5)  # what the service sets from MAX_UPLOAD_ROWS
    wb = Workbook()
    ws = wb.active
    ws.append(CURRICULUM_HEADER.split(","))
    for i in range(6):
        ws.append(["mini", "Mini", 1, f"C{i}", "Course", "S1", "S", f"O{i}", "Take a history.", 1, "PC1"])
    buf = io.BytesIO()
    wb.save(buf)
    assert refused("curriculum-xlsx", "rows.xlsx", buf.getvalue(), framework="mini").status == 413


def test_rows_under_the_limit_load(monkeypatch):
    monkeypatch.setattr(safety, "_MAX_ROWS", 100)  # what the service sets from MAX_UPLOAD_ROWS
    delta = load("framework-csv", "framework.csv", (MINI / "framework.csv").read_bytes(), id="mini", title="Mini")
    assert delta.summary["competencies"] == 6


# ------------------------------------------------------------------ XML entities
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:skos="http://www.w3.org/2004/02/skos/core#">
 <skos:ConceptScheme rdf:about="http://x.org/s"><skos:prefLabel>&e;</skos:prefLabel></skos:ConceptScheme>
</rdf:RDF>"""


@pytest.fixture
def no_rdflib_parse(monkeypatch):
    """Any rdflib parse fails the test: the check must refuse before the parser runs."""
    _mini_store()  # its own set-up parses (SHACL shapes): done before the patch

    def boom(*a, **kw):
        raise AssertionError("rdflib parsed a document that should have been refused unread")
    monkeypatch.setattr(Graph, "parse", boom)


@pytest.mark.parametrize("fmt", [None, "xml", "application/rdf+xml", "rdf"])
def test_billion_laughs_rdfxml_refused_before_parsing(no_rdflib_parse, fmt):
    assert len(BILLION_LAUGHS.encode()) < 1100
    opts = {"format": fmt} if fmt else {}
    err = refused("skos", "laughs.rdf", BILLION_LAUGHS, **opts)
    assert err.status == 422 and "entit" in err.message


@pytest.mark.parametrize("decl", [
    '<!ENTITY x SYSTEM "file:///etc/passwd">',
    '<!ENTITY x PUBLIC "-//x" "http://127.0.0.1:5128/x.dtd">',
    '<!ENTITY % p "x">',
])
def test_external_and_parameter_entities_refused(no_rdflib_parse, decl):
    doc = BILLION_LAUGHS.split("[", 1)[0] + "[\n " + decl + "\n]>" + BILLION_LAUGHS.split("]>", 1)[1]
    assert refused("skos", "x.rdf", doc).status == 422


def test_external_dtd_refused(no_rdflib_parse):
    doc = BILLION_LAUGHS.replace(BILLION_LAUGHS[BILLION_LAUGHS.index("<!DOCTYPE"):BILLION_LAUGHS.index("]>") + 2],
                                 '<!DOCTYPE rdf:RDF SYSTEM "http://127.0.0.1:5128/x.dtd">')
    assert "SYSTEM" in doc and "ENTITY" not in doc
    assert refused("skos", "x.rdf", doc).status == 422


def test_plain_namespace_entities_still_load():
    doc = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY skos "http://www.w3.org/2004/02/skos/core#"> <!ENTITY x "http://x.org/"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:skos="&skos;">
 <skos:ConceptScheme rdf:about="&x;s"><skos:prefLabel>S</skos:prefLabel><skos:notation>s</skos:notation></skos:ConceptScheme>
 <skos:Concept rdf:about="&x;c1"><skos:inScheme rdf:resource="&x;s"/><skos:prefLabel>One</skos:prefLabel></skos:Concept>
</rdf:RDF>"""
    delta = load("skos", "ok.rdf", doc)
    assert delta.summary


# ------------------------------------------------------------------ JSON-LD
def test_jsonld_deep_nesting_is_422_not_recursion_error():
    deep = '{"@id": "http://x.org/a", "http://x.org/p": ' + "[" * 5000 + "]" * 5000 + "}"
    err = refused("skos", "deep.jsonld", deep)
    assert err.status == 422 and "nest" in err.message
    deep2 = '{"@id": "http://x.org/a", "http://x.org/p": ' + '{"http://x.org/q": ' * 600 + "1" + "}" * 600 + "}"
    assert refused("skos", "deep2.jsonld", deep2).status == 422


class _Listener:
    def __init__(self, port: int):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.port, self.connections = port, 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            ctx = json.dumps({"@context": {"ex": "http://x.org/"}}).encode()
            try:
                c.recv(65536)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/ld+json\r\nContent-Length: %d\r\n"
                          b"Connection: close\r\n\r\n%s" % (len(ctx), ctx))
            except OSError:
                pass
            c.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


@pytest.fixture
def ctx_server():
    lst = None
    for port in (5128, 5129, 5127):
        try:
            lst = _Listener(port)
            break
        except OSError:
            continue
    assert lst is not None
    yield lst
    lst.close()


def _jsonld_docs(url: str) -> list[str]:
    scheme = {"@id": "http://x.org/s", "@type": "http://www.w3.org/2004/02/skos/core#ConceptScheme",
              "http://www.w3.org/2004/02/skos/core#prefLabel": "S"}
    return [json.dumps({"@context": url, **scheme}),
            json.dumps({"@context": [url, {"ex": "http://x.org/"}], **scheme}),
            json.dumps({"@context": {"@import": url, "ex": "http://x.org/"}, **scheme}),
            json.dumps({"@context": {"ex": {"@id": "http://x.org/ex", "@context": url}}, **scheme}),
            json.dumps({"@graph": [{"@context": url, **scheme}]}),
            json.dumps([{"@context": {"@version": 1.1, "@import": url}, **scheme}])]


@pytest.mark.parametrize("fmt", [None, "json-ld", "jsonld", "application/ld+json", "json", "application/json"])
def test_jsonld_never_fetches_a_context_whatever_the_format_alias(ctx_server, fmt):
    url = f"http://127.0.0.1:{ctx_server.port}/ctx.jsonld"
    for doc in _jsonld_docs(url):
        opts = {"format": fmt} if fmt else {}
        err = refused("skos", "remote.jsonld", doc, **opts)
        assert err.status == 422 and "not fetched" in err.message
    assert ctx_server.connections == 0


def test_rdflib_itself_cannot_fetch_contexts_once_loaders_are_imported(ctx_server):
    """The second wall: even a direct rdflib parse (a path that skipped the check) fetches nothing."""
    url = f"http://127.0.0.1:{ctx_server.port}/ctx.jsonld"
    with pytest.raises(Exception):
        Graph().parse(data=json.dumps({"@context": url, "@id": "http://x.org/a", "ex:p": "1"}), format="json-ld")
    with pytest.raises(Exception):
        Graph().parse(data=json.dumps({"@context": {"@import": url}, "@id": "http://x.org/a"}),
                      format="application/ld+json")
    assert ctx_server.connections == 0


def test_unknown_format_alias_is_refused():
    err = refused("skos", "x.ttl", "<http://x.org/a> <http://x.org/b> <http://x.org/c> .", format="trix")
    assert err.status == 422 and err.column == "format"


# ------------------------------------------------------------------ Turtle
def test_turtle_iri_with_a_space_is_422():
    doc = ("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
           "<http://x.org/s> a skos:ConceptScheme ; skos:prefLabel \"S\" .\n"
           "<http://x.org/a b> skos:inScheme <http://x.org/s> ; skos:prefLabel \"A\" .\n")
    err = refused("skos", "space.ttl", doc)
    assert err.status == 422 and "IRI" in err.message


def test_results_may_have_ten_times_the_rows(monkeypatch):
    monkeypatch.setattr(safety, "_MAX_ROWS", 2)
    rows = ["assessment_id,learner_id,cohort,score,passed"] + [f"A1,L{i},2026,0.5,true" for i in range(15)]
    assert load("results-csv", "r.csv", "\n".join(rows), program="mini").summary
    rows += [f"A1,M{i},2026,0.5,true" for i in range(10)]
    err = refused("results-csv", "r.csv", "\n".join(rows), program="mini")
    assert err.status == 413 and "20" in err.message
