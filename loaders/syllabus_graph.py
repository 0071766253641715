"""Turn an extracted syllabus into graph data: a versioned gm:Syllabus and its objectives.

Objective ids are derived from the course code and the normalised objective text, so an
objective that did not change between two versions keeps its id, its alignment IRIs, and
therefore the review decisions already taken on it.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from ontology.errors import Conflict, LoadError, NotFound
from ontology.vocab import DCTERMS, GM, PROV, RDF, RDFS, SKOS

from .base import Context, Delta, Loader, Source
from .shapes import add_course, add_objective
from .syllabus import DEFAULT_MAX_BYTES, ExtractedSyllabus, extract
from .syllabus.metadata import course_title


def objective_id(course_code: str, text: str) -> str:
    norm = re.sub(r"\s+", " ", text).strip().lower()
    return f"{course_code}-{hashlib.sha1(norm.encode()).hexdigest()[:10]}"


#: extracted assessment kinds (loaders.syllabus.ASSESSMENT_KINDS) -> the ontology's kinds of gm:Assessment;
#: kinds without one (assignment, presentation, participation) stay in the extraction output only
ASSESSMENT_CLASS = {"osce": GM.OSCEStation, "written exam": GM.WrittenExam, "portfolio": GM.Portfolio,
                    "workplace-based assessment": GM.WorkplaceBasedAssessment,
                    "preceptor evaluation": GM.WorkplaceBasedAssessment,
                    "professionalism": GM.WorkplaceBasedAssessment}
_BLOOM_RANK = {"remember": 1, "understand": 1, "apply": 2, "analyze": 2, "evaluate": 3, "create": 3}


def proficiency_level(bloom_level: str | None, year: int | None) -> int | None:
    """A target proficiency level (1-5) for an extracted objective: its Bloom level (remember/understand 1,
    apply/analyse 2, evaluate/create 3) raised by one from the third year of the programme (clinical years)
    and by two from the fifth; without a Bloom level, 1 in years 1-2 and 2 later.  A default a reviewer edits
    (it is stored as gm:targetLevel like a curated level), so a course can meet a role's required level."""
    base = _BLOOM_RANK.get((bloom_level or "").lower())
    bump = 0 if not year or year < 3 else (1 if year < 5 else 2)
    if base is None:
        return None if year is None else (1 if year < 3 else 2)
    return max(1, min(5, base + bump))


def assessment_id(course_code: str, kind: str, title: str) -> str:
    norm = re.sub(r"\s+", " ", f"{kind}|{title}").strip().lower()
    return f"{course_code}-a-{hashlib.sha1(norm.encode()).hexdigest()[:10]}"


def syllabus_delta(ctx: Context, extracted, *, program: str, course_code: str, course: URIRef | None,
                   version: int, filename: str, user: str, year: int | None = None,
                   title: str | None = None) -> Delta:
    """The syllabus graph (``graph/syllabus/{course}``): replaces the previous version's objectives."""
    ids = ctx.ids
    delta = Delta(columns={GM.text: "objective", GM.charStart: "char_start", GM.charEnd: "char_end"})
    g = delta.graph(ids.graph("syllabus", course_code))
    if course is None:  # a new course, created by its syllabus
        course = add_course(g, ids.course(course_code), code=course_code,
                            title=course_title(title or extracted.title, course_code) or course_code,
                            program=ids.program(program), year=year)
    s = ids.syllabus(course_code, str(version))
    agent = ids.agent(user)
    g.add((s, RDF.type, GM.Syllabus))
    g.add((s, RDF.type, PROV.Entity))
    g.add((s, GM.syllabusOf, course))
    g.add((s, DCTERMS.source, Literal(filename)))
    g.add((s, DCTERMS.hasVersion, Literal(version, datatype=XSD.integer)))
    g.add((s, DCTERMS.format, Literal(extracted.format)))
    if extracted.title:
        g.add((s, DCTERMS.title, Literal(extracted.title)))
    if extracted.language:
        g.add((s, DCTERMS.language, Literal(extracted.language)))
    g.add((s, PROV.generatedAtTime, Literal(datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                            datatype=XSD.dateTime)))
    g.add((s, PROV.wasAttributedTo, agent))
    g.add((agent, RDF.type, PROV.Person))
    g.add((agent, RDFS.label, Literal(user)))
    seen = set()
    for i, o in enumerate(extracted.objectives, start=1):
        oid = objective_id(course_code, o.text)
        if oid in seen:  # the same objective twice in one document counts once
            continue
        seen.add(oid)
        # the text in the document's language (detected; English when it could not be told), like every
        # objective text (loaders/shapes.py)
        node = add_objective(g, ids.objective(oid), notation=oid, text=o.text, course=course,
                             lang=extracted.language, level=proficiency_level(o.bloom_level, year))
        g.add((node, GM.extractedFrom, s))
        g.add((node, GM.charStart, Literal(o.char_start, datatype=XSD.integer)))
        g.add((node, GM.charEnd, Literal(o.char_end, datatype=XSD.integer)))
        if o.page is not None:
            g.add((node, GM.page, Literal(o.page, datatype=XSD.integer)))
        if o.bloom_level:
            g.add((node, GM.bloomLevel, Literal(o.bloom_level)))
        delta.origin[node] = (filename, i)
    # The assessment/grading section: each component becomes a gm:Assessment of the course, replaced with the
    # syllabus version like the objectives.  It is NOT linked to the objectives here: a grading table does not
    # say which objective the OSCE examines, and linking all of them made every taught competency "covered"
    # (a course could never be "taught, not assessed").  Reviewers link them on the review page ("Mark
    # assessed", POST /api/objectives/{oid}/assessed-by), with PROV, like alignments.
    stored = 0
    for a in getattr(extracted, "assessments", ()) or ():
        cls = ASSESSMENT_CLASS.get(a.kind)
        if cls is None:
            continue
        aid = assessment_id(course_code, a.kind, a.title)
        node = ids.assessment(aid)
        if (node, RDF.type, GM.Assessment) in g:
            continue
        stored += 1
        g.add((node, RDF.type, GM.Assessment))
        g.add((node, RDF.type, cls))
        g.add((node, SKOS.notation, Literal(aid)))
        g.add((node, DCTERMS.title, Literal(a.title)))
        g.add((node, GM.assessmentIn, course))
        g.add((node, PROV.wasDerivedFrom, s))  # not gm:extractedFrom: its domain is gm:LearningObjective
        if a.weight is not None:
            g.add((node, GM.gradeWeight, Literal(f"{a.weight:.4f}", datatype=XSD.decimal)))
        if a.pass_fail:
            g.add((node, GM.passFail, Literal(True)))
    delta.summary = {"objectives": len(seen), "version": version, "assessments": stored}
    return delta


#: course codes a syllabus upload may create or name (they become IRIs, file names and page titles)
COURSE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def course_for_upload(ctx: Context, program: str, course_code: str, year: int | None) -> URIRef | None:
    """The course's IRI (None: a new course, which needs a year); errors name the field."""
    if not COURSE_CODE.fullmatch(course_code or ""):
        raise LoadError(f"course code {str(course_code)[:60]!r} is not valid: letters, digits, '.', '_' or '-', "
                        "at most 40, starting with a letter or digit", column="course")
    if year is not None and not 1 <= year <= 8:
        raise LoadError(f"year {year} is out of range: a course's year is 1 to 8", column="year")
    store = ctx.store
    rows = store.select("course_detail", code=Literal(course_code)) if store is not None else []
    if rows and rows[0]["pid"] != program:
        raise LoadError(f"course {course_code!r} belongs to program {rows[0]['pid']!r}", column="course")
    if rows:
        have = rows[0].get("year")
        if year is not None and have is not None and int(have) != year:
            raise Conflict(f"course {course_code!r} is in year {int(have)}; an upload cannot move it to year {year} "
                           "(leave year out, or move the course in a draft)", field="year")
        return URIRef(rows[0]["course"])
    if store is None or not any(r["id"] == program for r in store.select("programs")):
        raise NotFound(f"program {program!r} is not loaded", field="program")
    if year is None:
        raise LoadError(f"course {course_code!r} is new: give its year to create it", column="year")
    return None


def course_year(ctx: Context, course_code: str) -> int | None:
    """The year of a loaded course (it sets its objectives' proficiency levels)."""
    rows = ctx.store.select("course_detail", code=Literal(course_code)) if ctx.store is not None else []
    return int(rows[0]["year"]) if rows and rows[0].get("year") else None


class SyllabusDocument(Loader):
    """A syllabus document as the next version of a course's syllabus (objectives, assessments) and an entry in
    the course's upload history.  Reads the store (the course, the versions so far), so run it under the store's
    write lock, like every loader."""

    name = "syllabus"
    description = ("Course syllabus (PDF, DOCX, HTML, Markdown or text): its learning objectives and assessments "
                   "as the course's next syllabus version")
    options = {"program": "program id", "course": "course code (a new course is created)",
               "year": "the course's year, when the course is new", "title": "the course's title, when new",
               "user": "who uploads (the service sets the signed-in user)",
               "media_type": "the upload's media type (else from the file)"}

    @staticmethod
    def _target(ctx: Context) -> tuple[str, str, int | None]:
        program = ctx.option("program", required=True)
        code = ctx.option("course") or ""  # checked by course_for_upload
        year = ctx.option("year")
        if year not in (None, ""):
            try:
                year = int(year)
            except (TypeError, ValueError):
                raise LoadError(f"year {str(year)[:20]!r} is not a whole number", column="year") from None
        else:
            year = None
        return str(program), str(code), year

    def read(self, source: Source, ctx: Context) -> ExtractedSyllabus:
        """Check the target course, then extract the document (no store writes; no lock needed)."""
        program, code, year = self._target(ctx)
        course_for_upload(ctx, program, code, year)  # fail fast, before reading the file
        data = source.data if source.path is None else source.bytes()  # no data: extract says so (422)
        return extract(data, source.name, ctx.option("media_type"),
                       max_bytes=int(ctx.option("max_bytes", DEFAULT_MAX_BYTES)))

    def delta(self, extracted: ExtractedSyllabus, ctx: Context, *, filename: str) -> Delta:
        """The next version's delta: the syllabus graph and the upload history (call under the write lock)."""
        program, code, year = self._target(ctx)
        user = str(ctx.option("user", required=True))
        course = course_for_upload(ctx, program, code, year)
        if course is not None:
            year = course_year(ctx, code) or year
        elif not extracted.objectives:  # nothing to teach: do not create an empty course
            raise LoadError(f"no learning objectives were found in {filename}; course {code!r} was not created",
                            file=filename)
        ids, store = ctx.ids, ctx.store
        cid = ids.course(code)
        versions = [int(r["version"]) for r in store.select("course_syllabi", course=cid)]
        versions += [int(r["version"]) for r in store.select("course_uploads", course=cid)]
        version = max(versions, default=0) + 1
        delta = syllabus_delta(ctx, extracted, program=program, course_code=code, course=course, version=version,
                               filename=filename, user=user, year=year, title=ctx.option("title"))
        syllabus_name = ids.graph("syllabus", code)
        if course is not None:
            # A course that an earlier upload created lives in the syllabus graph being replaced: keep it.
            previous = store.graph(syllabus_name)
            if (course, RDF.type, GM.Course) in previous:
                g = delta.graph(syllabus_name)
                for t in previous.triples((course, None, None)):
                    g.add(t)
        # Every version stays listed in the course's upload history (the syllabus graph holds the current one).
        history_name = ids.graph("uploads", code)
        history = store.graph(history_name)
        entry = ids.activity(f"upload-{code}-{version}")
        agent = ids.agent(user)
        history.add((entry, RDF.type, PROV.Activity))
        history.add((entry, PROV.generated, ids.syllabus(code, str(version))))
        history.add((entry, DCTERMS.subject, cid))
        history.add((entry, DCTERMS.hasVersion, Literal(version, datatype=XSD.integer)))
        history.add((entry, DCTERMS.source, Literal(filename)))
        history.add((entry, PROV.endedAtTime, Literal(datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                                                      datatype=XSD.dateTime)))
        history.add((entry, PROV.wasAssociatedWith, agent))
        history.add((entry, RDFS.comment, Literal(f"{delta.summary.get('objectives', 0)} objectives")))
        history.add((agent, RDF.type, PROV.Person))
        history.add((agent, RDFS.label, Literal(user)))
        delta.graphs[history_name] = history
        return delta

    def load(self, source: Source, ctx: Context) -> Delta:
        if ctx.store is None:
            raise LoadError("a syllabus is stored as a version of a course: it needs the store", column="course")
        return self.delta(self.read(source, ctx), ctx, filename=source.name)
