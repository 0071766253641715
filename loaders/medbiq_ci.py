"""MedBiquitous Curriculum Inventory (ANSI/MEDBIQ CI v1 and v2 XML) in and out.

Import (loader ``medbiq-ci``): one ``CurriculumInventory`` document.

  * ``Program`` → ``gm:Program`` ``B/program/{id}`` (id = option ``program``, else a slug of ProgramName):
    dcterms:title = ProgramName, dcterms:identifier = ProgramID, dcterms:description = the report's
    Description, schema:provider = InstitutionName, schema:url = SupportingLink, dcterms:language = Language.
  * ``AcademicLevels`` → years: a sequence block's ``Level`` (v1) or ``StartingAcademicLevel`` (v2) names
    the level number, which becomes the course's ``gm:year``.
  * ``SequenceBlock`` with at least one ``SequenceBlockEvent`` → ``gm:Course`` (code = the block id, title, year,
    dcterms:description); blocks holding only other blocks (years, phases) are structure, not courses.
  * ``Event`` → ``gm:Session`` of each course whose block lists it (``B/course/{code}/session/{event id}``):
    title, dcterms:description, EventDuration → schema:timeRequired, the primary InstructionalMethod (or
    the first AssessmentMethod) → schema:learningResourceType.
  * ``Expectations/CompetencyObject`` referenced by an event or a course block → a ``gm:LearningObjective`` of
    that session or course: id = ``{course}.{event}.{key}`` (``{course}.{key}`` for a block) where ``key`` is a slug
    of the last segment of the object's identifier entry (a Gapmap objective IRI keeps its own id), text = the
    object's lom title, dcterms:source = its identifier entry.
  * Links to framework competencies (option ``framework``): a competency object whose entry is a competency
    of that framework (its IRI, its dcterms:source or skos:exactMatch, or its notation as the entry's last
    segment), or a ``cf:Relation`` between an objective's object and a competency's object, gives a curator
    alignment (accepted) of that objective to that competency.

Errors name the element and its line (``Event[@id='E7']/EventDuration``, line 42).  The XML is parsed with
defusedxml first (no DTDs, entities or external references), then with lxml (no network, no entities)
for line numbers.

Export (:func:`export_ci`): a program as CI v1 XML that validates against the v1 XSD (with stubs of the
auxiliary MedBiquitous schemas it imports: ``tests/fixtures/medbiq_stubs/``).  Import → export → import
gives the same graph.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from ontology.errors import LoadError, NotFound
from ontology.vocab import DCTERMS, GM, RDF, SCHEMA, SKOS

from .base import ID_RE, Context, Delta, Loader, Source, check_id
from .shapes import add_course, add_curator_alignment, add_objective, add_program

CI_V1 = "http://ns.medbiq.org/curriculuminventory/v1/"
CI_V2 = "http://ns.medbiq.org/curriculuminventory/v2/"
LOM = "http://ltsc.ieee.org/xsd/LOM"
CF = "http://ns.medbiq.org/competencyframework/v1/"
M = "http://ns.medbiq.org/member/v1/"
NSMAP_V1 = {None: CI_V1, "lom": LOM, "a": "http://ns.medbiq.org/address/v1/", "cf": CF,
            "co": "http://ns.medbiq.org/competencyobject/v1/", "hx": "http://ns.medbiq.org/lom/extend/v1/",
            "m": M, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
COLUMNS = {DCTERMS.title: "Title", GM.year: "Level", GM.text: "lom:title", GM.partOfCourse: "SequenceBlockEvent",
           GM.objectiveOf: "CompetencyObjectReference", GM.alignedCompetency: "cf:Relation"}
REF_EVENT = re.compile(r"\s*/CurriculumInventory/Events/Event\[@id\s?=\s?'([^']+)'\]\s*$")
REF_LEVEL = re.compile(r"\s*/CurriculumInventory/AcademicLevels/Level\[@number\s?=\s?'(\d+)'\]\s*$")
REF_CO = re.compile(r"\s*/CurriculumInventory/Expectations/CompetencyObject\[lom:lom/lom:general/lom:identifier/"
                    r"lom:entry\s?=\s?'([^']+)'\]\s*$")


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", value.strip()).strip("-._")


def parse_xml(data: bytes, name: str):
    """The lxml root of ``data``: refused when it has a DTD, entities or external references."""
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException
    from lxml import etree
    try:
        DET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as e:
        raise LoadError(f"refused: {e} (DTDs, entities and external references are not allowed)", file=name) from None
    except DET.ParseError as e:
        line, col = getattr(e, "position", (None, None))
        raise LoadError(f"not well-formed XML (column {col}): {e}", file=name, row=line) from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise LoadError(f"not well-formed XML: {e.msg}", file=name, row=e.lineno) from None


class _Doc:
    """Namespaced lookups with errors that name the element and its line."""

    def __init__(self, root, name):
        self.root, self.name = root, name
        self.ns = root.nsmap.get(None) if root.nsmap else None
        tag = root.tag.split("}", 1)[-1]
        if tag != "CurriculumInventory" or self.ns not in (CI_V1, CI_V2):
            raise LoadError(f"the root element is {root.tag!r}, not a MedBiquitous CurriculumInventory "
                            f"({CI_V1} or {CI_V2})", file=name, row=root.sourceline, column=tag)
        self.version = 1 if self.ns == CI_V1 else 2

    def q(self, local, ns=None):
        return f"{{{ns or self.ns}}}{local}"

    def all(self, el, local, ns=None):
        return el.findall(self.q(local, ns))

    def one(self, el, local, where, ns=None, required=True):
        found = el.find(self.q(local, ns))
        if found is None and required:
            raise self.error(el, f"{where} has no {local} element", f"{where}/{local}")
        return found

    def text(self, el, local, where, ns=None, required=True) -> str | None:
        found = self.one(el, local, where, ns, required)
        if found is None:
            return None
        t = (found.text or "").strip()
        if not t and required:
            raise self.error(found, f"{where}/{local} is empty", f"{where}/{local}")
        return t or None

    def error(self, el, message, column):
        return LoadError(message, file=self.name, row=getattr(el, "sourceline", None), column=column)


def _co_entries(d: _Doc, co) -> list[str]:
    return [(e.text or "").strip() for e in co.iter(f"{{{LOM}}}entry") if (e.text or "").strip()]


def _co_title(d: _Doc, co) -> str | None:
    general = co.find(f"{{{LOM}}}lom/{{{LOM}}}general")
    if general is None:
        return None
    for s in general.findall(f"{{{LOM}}}title/{{{LOM}}}string"):
        if (s.text or "").strip():
            return s.text.strip()
    for s in general.findall(f"{{{LOM}}}description/{{{LOM}}}string"):
        if (s.text or "").strip():
            return s.text.strip()
    return None


def _competencies(ctx: Context, fw: str) -> dict[str, URIRef]:
    """entry (IRI or notation) -> competency IRI for framework ``fw``."""
    if ctx.store is None:
        raise LoadError(f"cannot resolve competencies of framework {fw!r}: no store given", column="framework")
    res = ctx.store.query(_COMPETENCY_KEYS, {"fw": Literal(fw)})
    out: dict[str, URIRef] = {}
    for r in res:
        c = r["c"]
        out.setdefault(str(c), c)
        out.setdefault(str(r["n"]), c)
        if r["alias"] is not None:
            out.setdefault(str(r["alias"]), c)
    if not out:
        raise LoadError(f"framework {fw!r} is not loaded; load it first", column="framework")
    return out


_COMPETENCY_KEYS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX gm: <https://w3id.org/gapmap/ns#>
SELECT ?fw ?c ?n ?alias WHERE {
  ?scheme a gm:Framework ; skos:notation ?fw .
  ?c a gm:Competency ; skos:inScheme ?scheme ; skos:notation ?n .
  OPTIONAL { ?c skos:exactMatch|dcterms:source ?alias }
}"""


def _last_segment(entry: str) -> str:
    return re.split(r"[/#:]", entry.rstrip("/#"))[-1]


class CurriculumInventory(Loader):
    name = "medbiq-ci"
    description = "MedBiquitous Curriculum Inventory XML (v1/v2): sequence blocks, events, competency objects"
    options = {"program": "program id (default: a slug of ProgramName)",
               "framework": "id of the framework competency objects and relations refer to",
               "prefix": "prepended to sequence block ids to make course codes (course codes are global)"}

    @classmethod
    def sniff(cls, data: bytes, filename: str) -> bool:
        return b"CurriculumInventory" in data[:2**16]

    def load(self, source: Source, ctx: Context) -> Delta:
        f, ids = source.name, ctx.ids
        root = parse_xml(source.bytes(), f)
        d = _Doc(root, f)
        program_el = d.one(root, "Program", "CurriculumInventory")
        pname = d.text(program_el, "ProgramName", "Program")
        pid_el = d.one(program_el, "ProgramID", "Program", required=False)
        pid = (pid_el.text or "").strip() if pid_el is not None else ""
        gapmap_id = pid_el is not None and (pid_el.get("domain") or "").endswith(":gapmap-program")
        prog = ctx.option("program") or (pid if gapmap_id else _slug(pname).lower())
        prog = check_id(prog, file=f, row=program_el.sourceline, column="Program/ProgramName")
        fw = ctx.option("framework")
        comps = _competencies(ctx, fw) if fw else {}

        delta = Delta(columns=dict(COLUMNS))
        g = delta.graph(ids.graph("curriculum", prog))
        p = ids.program(prog)
        add_program(g, p, notation=prog, title=pname, framework=ids.framework(fw) if fw else None)
        if pid and not gapmap_id:
            g.add((p, DCTERMS.identifier, Literal(pid)))
        for local, pred in (("Description", DCTERMS.description), ("Language", DCTERMS.language)):
            v = d.text(root, local, "CurriculumInventory", required=False)
            if v:
                g.add((p, pred, Literal(v)))
        link = d.text(root, "SupportingLink", "CurriculumInventory", required=False)
        if link and re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$", link):
            g.add((p, SCHEMA.url, URIRef(link)))
        inst = root.find(f"{d.q('Institution')}/{{{M}}}InstitutionName")
        if inst is not None and (inst.text or "").strip():
            g.add((p, SCHEMA.provider, Literal(inst.text.strip())))
        delta.origin[p] = (f, program_el.sourceline)

        # Academic levels.
        levels = set()
        al = d.one(root, "AcademicLevels", "CurriculumInventory", required=False)
        for lv in (d.all(al, "Level") if al is not None else []):
            n = lv.get("number")
            if not (n or "").isdigit() or not 1 <= int(n) <= 10:
                raise d.error(lv, f"Level number {n!r} is not a whole number from 1 to 10",
                              "AcademicLevels/Level/@number")
            levels.add(int(n))

        # Events.
        events = {}
        ev_root = d.one(root, "Events", "CurriculumInventory", required=False)
        for ev in (d.all(ev_root, "Event") if ev_root is not None else []):
            eid = ev.get("id")
            where = f"Event[@id='{eid}']"
            if not eid:
                raise d.error(ev, "an Event has no id", "Event/@id")
            check_id_at(d, ev, eid, f"{where}/@id")
            if eid in events:
                raise d.error(ev, f"Event id {eid!r} appears twice", f"{where}/@id")
            events[eid] = ev

        # Competency objects, by entry.
        cos: dict[str, object] = {}
        exp = d.one(root, "Expectations", "CurriculumInventory", required=False)
        for co in (d.all(exp, "CompetencyObject") if exp is not None else []):
            entries = _co_entries(d, co)
            if not entries:
                raise d.error(co, "a CompetencyObject has no lom identifier entry",
                              "Expectations/CompetencyObject/lom:lom/lom:general/lom:identifier/lom:entry")
            for e in entries:
                cos.setdefault(e, co)
                cos.setdefault(_last_segment(e), co)
        relations = []
        for cf in (d.all(exp, "CompetencyFramework") if exp is not None else []):
            for rel in cf.findall(f"{{{CF}}}Relation"):
                r1, r2 = rel.find(f"{{{CF}}}Reference1"), rel.find(f"{{{CF}}}Reference2")
                if r1 is None or r2 is None:
                    raise d.error(rel, "a cf:Relation needs cf:Reference1 and cf:Reference2",
                                  "CompetencyFramework/cf:Relation")
                a = (r1.findtext(f"{{{CF}}}Entry") or "").strip()
                b = (r2.findtext(f"{{{CF}}}Entry") or "").strip()
                relations.append((a, b, rel))

        def co_of(ref_el, where):
            m = REF_CO.match(ref_el.text or "")
            if not m:
                raise d.error(ref_el, f"{(ref_el.text or '').strip()!r} is not a CompetencyObject reference",
                              f"{where}/CompetencyObjectReference")
            key = m.group(1)
            co = cos.get(key)
            if co is None:
                raise d.error(ref_el, f"no CompetencyObject has the identifier entry {key!r}",
                              f"{where}/CompetencyObjectReference")
            return co

        # Sequence blocks.
        blocks = {}
        seq = d.one(root, "Sequence", "CurriculumInventory", required=False)
        for b in (d.all(seq, "SequenceBlock") if seq is not None else []):
            bid = b.get("id")
            where = f"SequenceBlock[@id='{bid}']"
            if not bid:
                raise d.error(b, "a SequenceBlock has no id", "SequenceBlock/@id")
            if bid in blocks:
                raise d.error(b, f"SequenceBlock id {bid!r} appears twice", f"{where}/@id")
            blocks[bid] = b

        def level_of(b, where):
            if d.version == 1:
                el = d.one(b, "Level", where)
            else:
                el = d.one(d.one(b, "SequenceBlockLevels", where), "StartingAcademicLevel",
                           f"{where}/SequenceBlockLevels")
            m = REF_LEVEL.match(el.text or "")
            if not m:
                raise d.error(el, f"{(el.text or '').strip()!r} is not an AcademicLevels/Level reference",
                              f"{where}/Level")
            n = int(m.group(1))
            if levels and n not in levels:
                raise d.error(el, f"academic level {n} is not declared in AcademicLevels", f"{where}/Level")
            if not 1 <= n <= 8:
                raise d.error(el, f"academic level {n} is out of range 1..8 (a course's year)", f"{where}/Level")
            return n

        counts = {"programs": 1, "courses": 0, "sessions": 0, "objectives": 0, "alignments": 0}
        objectives_of_co: dict[int, list[URIRef]] = defaultdict(list)
        made: dict[str, int] = {}

        def objective(co, parent, course, code, prefix, ref_el, where):
            entries = _co_entries(d, co)
            ours = next((e for e in entries if re.fullmatch(re.escape(str(ids.objective(""))) + r"[^/]+", e)), None)
            outside = next((e for e in entries if not ids.is_ours(e)), None)
            oid = ours.rsplit("/", 1)[-1] if ours else f"{prefix}.{_slug(_last_segment(outside or entries[0]))}"
            check_id_at(d, ref_el, oid, f"{where}/CompetencyObjectReference")
            if oid in made:
                return  # the same object referenced twice from one place
            made[oid] = ref_el.sourceline
            text = _co_title(d, co)
            if not text:
                raise d.error(co, f"CompetencyObject {entries[0]!r} has no lom title", "CompetencyObject/lom:title")
            o = add_objective(g, ids.objective(oid), notation=oid, text=text, course=course, parent=parent)
            if outside and re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$", outside):
                g.add((o, DCTERMS.source, URIRef(outside)))
            delta.origin[o] = (f, ref_el.sourceline)
            counts["objectives"] += 1
            objectives_of_co[id(co)].append((o, oid))
            for e in entries:
                comp = comps.get(e)
                if comp is not None:
                    a = add_curator_alignment(g, ids, o, oid, comp)
                    delta.origin[a] = (f, ref_el.sourceline)

        for bid, b in blocks.items():
            where = f"SequenceBlock[@id='{bid}']"
            sbes = d.all(b, "SequenceBlockEvent")
            if not sbes:
                continue  # a year or phase holding other blocks
            code = check_id_at(d, b, (ctx.option("prefix") or "") + bid, f"{where}/@id")
            if ctx.store is not None:
                other = [r["pid"] for r in ctx.store.select("course_detail", code=Literal(code)) if r["pid"] != prog]
                if other:
                    raise d.error(b, f"course {code!r} already belongs to program {other[0]!r}; give the option "
                                     "'prefix' to load these blocks as other courses", f"{where}/@id")
            year = level_of(b, where)
            title = d.text(b, "Title", where)
            c = ids.course(code)
            add_course(g, c, code=code, title=title, program=p, year=year)
            desc = d.text(b, "Description", where, required=False)
            if desc:
                g.add((c, DCTERMS.description, Literal(desc)))
            delta.origin[c] = (f, b.sourceline)
            counts["courses"] += 1
            for ref in d.all(b, "CompetencyObjectReference"):
                objective(co_of(ref, where), c, c, code, code, ref, where)
            for sbe in sbes:
                ref = d.one(sbe, "EventReference", f"{where}/SequenceBlockEvent")
                m = REF_EVENT.match(ref.text or "")
                if not m:
                    raise d.error(ref, f"{(ref.text or '').strip()!r} is not an Events/Event reference",
                                  f"{where}/SequenceBlockEvent/EventReference")
                eid = m.group(1)
                ev = events.get(eid)
                if ev is None:
                    raise d.error(ref, f"no Event has the id {eid!r}", f"{where}/SequenceBlockEvent/EventReference")
                ewhere = f"Event[@id='{eid}']"
                s = ids.session(code, eid)
                if (s, RDF.type, GM.Session) in g:
                    continue
                g.add((s, RDF.type, GM.Session))
                g.add((s, SKOS.notation, Literal(eid)))
                g.add((s, DCTERMS.title, Literal(d.text(ev, "Title", ewhere))))
                g.add((s, GM.partOfCourse, c))
                edesc = d.text(ev, "Description", ewhere, required=False)
                if edesc:
                    g.add((s, DCTERMS.description, Literal(edesc)))
                dur = d.text(ev, "EventDuration", ewhere, required=d.version == 1)
                if dur:
                    if not re.fullmatch(r"PT(\d+H)?(\d+M)?", dur) or dur == "PT":
                        raise d.error(d.one(ev, "EventDuration", ewhere), f"{dur!r} is not a duration like PT2H30M",
                                      f"{ewhere}/EventDuration")
                    g.add((s, SCHEMA.timeRequired, Literal(dur, datatype=XSD.duration)))
                methods = d.all(ev, "InstructionalMethod")
                method = next((m_ for m_ in methods if m_.get("primary") == "true"), methods[0] if methods else None)
                if method is None:
                    am = d.all(ev, "AssessmentMethod")
                    method = am[0] if am else None
                if method is not None and (method.text or "").strip():
                    g.add((s, SCHEMA.learningResourceType, Literal(method.text.strip())))
                delta.origin[s] = (f, ev.sourceline)
                counts["sessions"] += 1
                for oref in d.all(ev, "CompetencyObjectReference"):
                    objective(co_of(oref, ewhere), s, c, code, f"{code}.{eid}", oref, ewhere)

        # Relations from an objective's object to a competency's object.
        for a, b, rel in relations:
            for x, y in ((a, b), (b, a)):
                co = cos.get(x)
                comp = comps.get(y) or (comps.get(_last_segment(y)) if not comps.get(y) else None)
                if co is None or comp is None:
                    continue
                for o, oid in objectives_of_co.get(id(co), ()):
                    al = add_curator_alignment(g, ids, o, oid, comp)
                    delta.origin[al] = (f, rel.sourceline)
        counts["alignments"] = len(set(g.subjects(RDF.type, GM.Alignment)))
        # competency objects no course or event refers to (program-level expectations, framework entries)
        placed = {id(co) for co in cos.values() if objectives_of_co.get(id(co))}
        counts["unplaced_competency_objects"] = len({id(co) for co in cos.values()} - placed)
        if not counts["courses"]:
            raise LoadError("the inventory has no SequenceBlock with events (no course to load)", file=f,
                            column="Sequence")
        delta.summary = counts
        return delta


def check_id_at(d: _Doc, el, value: str, column: str) -> str:
    if not ID_RE.match(value or ""):
        raise d.error(el, f"{value!r} is not a valid id (letters, digits, '-', '_', '.')", column)
    return value


# Export ------------------------------------------------------------------------------------------
_PROGRAM = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
PREFIX gm: <https://w3id.org/gapmap/ns#>
SELECT ?id ?p ?title ?pid ?desc ?lang ?url ?provider WHERE {
  ?p a gm:Program ; skos:notation ?id ; dcterms:title ?title .
  OPTIONAL { ?p dcterms:identifier ?pid } OPTIONAL { ?p dcterms:description ?desc }
  OPTIONAL { ?p dcterms:language ?lang } OPTIONAL { ?p schema:url ?url } OPTIONAL { ?p schema:provider ?provider }
} LIMIT 1"""
_COURSES = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
PREFIX gm: <https://w3id.org/gapmap/ns#>
SELECT ?p ?c ?code ?title ?year ?desc ?s ?sid ?stitle ?sdesc ?dur ?method WHERE {
  ?c gm:partOfProgram ?p ; skos:notation ?code ; dcterms:title ?title ; gm:year ?year .
  OPTIONAL { ?c dcterms:description ?desc }
  OPTIONAL { ?s gm:partOfCourse ?c ; skos:notation ?sid .
             OPTIONAL { ?s dcterms:title ?stitle } OPTIONAL { ?s dcterms:description ?sdesc }
             OPTIONAL { ?s schema:timeRequired ?dur } OPTIONAL { ?s schema:learningResourceType ?method } }
} ORDER BY ?year ?code ?sid"""
_OBJECTIVES = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX gm: <https://w3id.org/gapmap/ns#>
SELECT ?p ?o ?oid ?text ?parent ?course ?source ?comp ?clabel WHERE {
  ?course gm:partOfProgram ?p .
  ?o gm:inCourse ?course ; skos:notation ?oid ; gm:text ?text ; gm:objectiveOf ?parent .
  OPTIONAL { ?o dcterms:source ?source }
  OPTIONAL { ?a gm:alignedObjective ?o ; gm:alignedCompetency ?comp ; gm:status gm:Accepted .
             OPTIONAL { ?comp skos:prefLabel ?clabel } }
} ORDER BY ?oid ?comp"""


def export_ci(store, ids, program: str, *, today: date | None = None) -> bytes:
    """Program ``program`` as MedBiquitous Curriculum Inventory v1 XML (UTF-8 bytes)."""
    from lxml import etree
    p = ids.program(program)
    rows = list(store.query(_PROGRAM, {"id": Literal(program)}))
    if not rows:
        raise NotFound(f"program {program!r} is not loaded", field="program")
    info = rows[0]
    today = today or date.today()
    N = "{%s}" % CI_V1

    def sub(parent, tag, text=None, ns=None, **attrs):
        el = etree.SubElement(parent, ("{%s}" % ns if ns else N) + tag, {k: str(v) for k, v in attrs.items()})
        if text is not None:
            el.text = str(text)
        return el

    root = etree.Element(N + "CurriculumInventory", nsmap=NSMAP_V1)
    root.set("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation", f"{CI_V1} curriculuminventory.xsd")
    host = re.sub(r"[^A-Za-z0-9.\-]", "", re.sub(r"^[a-z]+://", "", ids.base).split("/")[0]) or "gapmap"
    sub(root, "ReportID", f"{program}-{today.isoformat()}", domain=f"idd:{host}:gapmap")
    inst = sub(root, "Institution")
    sub(inst, "InstitutionName", str(info["provider"] or host), ns=M)
    sub(inst, "InstitutionID", host, ns=M, domain=f"idd:{host}:institution")
    prog = sub(root, "Program")
    sub(prog, "ProgramName", str(info["title"]))
    if info["pid"] is not None:
        sub(prog, "ProgramID", str(info["pid"]), domain=f"idd:{host}:program")
    else:  # the Gapmap program id, recognised on import
        sub(prog, "ProgramID", program, domain=f"idd:{host}:gapmap-program")
    sub(root, "Title", f"{info['title']} curriculum")
    sub(root, "ReportDate", today.isoformat())
    sub(root, "ReportingStartDate", date(today.year - 1, today.month, min(today.day, 28)).isoformat())
    sub(root, "ReportingEndDate", today.isoformat())
    sub(root, "Language", str(info["lang"] or "en"))
    sub(root, "Description", str(info["desc"] or f"{info['title']} curriculum, exported by Gapmap"))
    if info["url"] is not None:
        sub(root, "SupportingLink", str(info["url"]))

    courses: dict[str, dict] = {}
    for r in store.query(_COURSES, {"p": p}):
        code = str(r["code"])
        c = courses.setdefault(code, {"iri": r["c"], "title": str(r["title"]), "year": int(r["year"]),
                                      "desc": r["desc"], "sessions": {}})
        if r["s"] is not None:
            c["sessions"].setdefault(str(r["sid"]), {"iri": r["s"], "title": r["stitle"], "desc": r["sdesc"],
                                                     "dur": r["dur"], "method": r["method"]})
    if not courses:
        raise NotFound(f"program {program!r} has no courses", field="program")
    objectives: dict[str, dict] = {}
    for r in store.query(_OBJECTIVES, {"p": p}):
        o = objectives.setdefault(str(r["oid"]), {"iri": r["o"], "text": str(r["text"]), "parent": r["parent"],
                                                  "source": r["source"], "comps": {}})
        if r["comp"] is not None:
            o["comps"][r["comp"]] = r["clabel"]
    by_parent = defaultdict(list)
    for oid, o in objectives.items():
        by_parent[o["parent"]].append(oid)

    def co_ref(entry):
        return ("/CurriculumInventory/Expectations/CompetencyObject"
                f"[lom:lom/lom:general/lom:identifier/lom:entry='{entry}']")

    # Events: one per session; a course without sessions gets one event standing for the whole course.
    # Event id = the session id when no other course has a session of that id (so a re-import gives the
    # same sessions), else course.session.
    events = sub(root, "Events")
    event_ids: dict[str, list[str]] = {}
    sid_count = defaultdict(int)
    for c in courses.values():
        for sid in c["sessions"]:
            sid_count[sid] += 1
    for code, c in courses.items():
        event_ids[code] = []
        sessions = c["sessions"] or {f"{code}.course": {"iri": c["iri"], "title": c["title"], "desc": c["desc"],
                                                        "dur": None, "method": None}}
        for sid, s in sessions.items():
            eid = sid if sid_count[sid] <= 1 else f"{code}.{sid}"
            event_ids[code].append((eid, s["iri"]))
            ev = sub(events, "Event", id=eid)
            sub(ev, "Title", str(s["title"] or sid))
            sub(ev, "EventDuration", str(s["dur"] or "PT1H"))
            if s["desc"] is not None:
                sub(ev, "Description", str(s["desc"]))
            if s["iri"] != c["iri"]:
                for oid in sorted(by_parent.get(s["iri"], ())):
                    sub(ev, "CompetencyObjectReference", co_ref(str(objectives[oid]["iri"])))
            sub(ev, "InstructionalMethod", str(s["method"] or "Lecture"), primary="true")

    # Expectations: an object per objective and per aligned competency, a framework relating them.
    exp = sub(root, "Expectations")
    comp_labels = {}
    for oid in sorted(objectives):
        o = objectives[oid]
        co = sub(exp, "CompetencyObject")
        general = sub(sub(co, "lom", ns=LOM), "general", ns=LOM)
        for entry in [str(o["iri"])] + ([str(o["source"])] if o["source"] is not None else []):
            ident = sub(general, "identifier", ns=LOM)
            sub(ident, "catalog", "URI", ns=LOM)
            sub(ident, "entry", entry, ns=LOM)
        sub(sub(general, "title", ns=LOM), "string", o["text"], ns=LOM)
        comp_labels.update(o["comps"])
    for comp in sorted(comp_labels, key=str):
        co = sub(exp, "CompetencyObject")
        general = sub(sub(co, "lom", ns=LOM), "general", ns=LOM)
        ident = sub(general, "identifier", ns=LOM)
        sub(ident, "catalog", "URI", ns=LOM)
        sub(ident, "entry", str(comp), ns=LOM)
        sub(sub(general, "title", ns=LOM), "string", str(comp_labels[comp] or comp), ns=LOM)
    if objectives:
        cf = sub(exp, "CompetencyFramework")
        general = sub(sub(cf, "lom", ns=LOM), "general", ns=LOM)
        ident = sub(general, "identifier", ns=LOM)
        sub(ident, "catalog", "URI", ns=LOM)
        sub(ident, "entry", f"{p}/competency-framework", ns=LOM)
        for entry in [str(objectives[o]["iri"]) for o in sorted(objectives)] + [str(c) for c in sorted(comp_labels, key=str)]:
            inc = sub(cf, "Includes", ns=CF)
            sub(inc, "Catalog", "URI", ns=CF)
            sub(inc, "Entry", entry, ns=CF)
        for oid in sorted(objectives):
            for comp in sorted(objectives[oid]["comps"], key=str):
                rel = sub(cf, "Relation", ns=CF)
                r1 = sub(rel, "Reference1", ns=CF)
                sub(r1, "Catalog", "URI", ns=CF)
                sub(r1, "Entry", str(objectives[oid]["iri"]), ns=CF)
                sub(rel, "Relationship", "http://www.w3.org/2004/02/skos/core#related", ns=CF)
                r2 = sub(rel, "Reference2", ns=CF)
                sub(r2, "Catalog", "URI", ns=CF)
                sub(r2, "Entry", str(comp), ns=CF)
    else:
        # the schema needs at least one competency object: the program itself
        co = sub(exp, "CompetencyObject")
        general = sub(sub(co, "lom", ns=LOM), "general", ns=LOM)
        ident = sub(general, "identifier", ns=LOM)
        sub(ident, "catalog", "URI", ns=LOM)
        sub(ident, "entry", str(p), ns=LOM)
        sub(sub(general, "title", ns=LOM), "string", str(info["title"]), ns=LOM)

    years = sorted({c["year"] for c in courses.values()})
    al = sub(root, "AcademicLevels")
    sub(al, "LevelsInProgram", max(years))
    for y in range(1, max(years) + 1):
        lv = sub(al, "Level", number=y)
        sub(lv, "Label", f"Year {y}")

    seq = sub(root, "Sequence")
    for y in years:
        yb = sub(seq, "SequenceBlock", id=f"year-{y}", required="Required")
        sub(yb, "Title", f"Year {y}")
        sub(sub(yb, "Timing"), "Duration", "P12M")
        sub(yb, "Level", f"/CurriculumInventory/AcademicLevels/Level[@number='{y}']")
        for code in sorted(c for c in courses if courses[c]["year"] == y):
            sub(yb, "SequenceBlockReference", f"/CurriculumInventory/Sequence/SequenceBlock[@id='{code}']")
    for code, c in sorted(courses.items(), key=lambda kv: (kv[1]["year"], kv[0])):
        b = sub(seq, "SequenceBlock", id=code, required="Required")
        sub(b, "Title", c["title"])
        if c["desc"] is not None:
            sub(b, "Description", str(c["desc"]))
        sub(sub(b, "Timing"), "Duration", "P1M")
        sub(b, "Level", f"/CurriculumInventory/AcademicLevels/Level[@number='{c['year']}']")
        for oid in sorted(by_parent.get(c["iri"], ())):
            sub(b, "CompetencyObjectReference", co_ref(str(objectives[oid]["iri"])))
        for eid, _ in event_ids[code]:
            sbe = sub(b, "SequenceBlockEvent", required="true")
            sub(sbe, "EventReference", f"/CurriculumInventory/Events/Event[@id='{eid}']")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


#: where each import of the CI v1 XSD is found among the stubs (tests/fixtures/medbiq_stubs)
STUB_FILES = {
    "http://ns.medbiq.org/member/v1/member.xsd": "member.xsd",
    "http://ns.medbiq.org/competencyobject/v1/competencyobject.xsd": "competencyobject.xsd",
    "http://ns.medbiq.org/lom/healthcare/healthcaremetadata.xsd": "healthcaremetadata.xsd",
    "http://ns.medbiq.org/lom/healthcarelom.xsd": "lom.xsd",
    "http://ns.medbiq.org/competencyframework/v1/competencyframework.xsd": "competencyframework.xsd",
    "http://ns.medbiq.org/lom/healthcare/healthcarevocabularies.xsd": "healthcarevocabularies.xsd",
}


def ci_schema(xsd_path, stub_dir):
    """The CI XSD at ``xsd_path`` (xmlschema), its remote imports pointed at local stub files; never fetches."""
    from pathlib import Path

    import xmlschema
    text = Path(xsd_path).read_text("utf-8")
    for remote, local in STUB_FILES.items():
        text = text.replace(f'schemaLocation="{remote}"', f'schemaLocation="{(Path(stub_dir).resolve() / local).as_uri()}"')
    return xmlschema.XMLSchema10(text, base_url=str(Path(stub_dir).resolve()), allow="local")
