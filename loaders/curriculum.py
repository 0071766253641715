"""Curriculum CSV/XLSX: program, year, course, session, learning objectives, curator alignments."""
from __future__ import annotations

from rdflib import Literal

from ontology.errors import LoadError
from ontology.vocab import DCTERMS, GM, RDF, SKOS

from .base import Context, Delta, Loader, Source, check_id, parse_int, split_list
from .resolve import check_program_member, competency_index, program_members
from .shapes import add_course, add_curator_alignment, add_objective, add_program

REQUIRED = ["program_id", "program_title", "year", "course_code", "course_title", "objective_id", "objective_text"]
OPTIONAL = ["session_id", "session_title", "level", "competencies"]
COLUMNS = {GM.text: "objective_text", GM.targetLevel: "level", GM.year: "year", GM.alignedCompetency: "competencies",
           DCTERMS.title: "course_title", GM.partOfProgram: "program_id"}


class CurriculumCSV(Loader):
    name = "curriculum-csv"
    columns = tuple(REQUIRED)
    description = "Curriculum: one row per learning objective (program, year, course, session, objective)"
    options = {"framework": "id of the framework the competencies column refers to"}
    sheet = None

    def load(self, source: Source, ctx: Context) -> Delta:
        df = source.table(list(self.columns), OPTIONAL, sheet=self.sheet)
        f, ids = source.name, ctx.ids
        fw = ctx.option("framework")
        comps = competency_index(ctx, fw) if fw else {}
        members = program_members(ctx)
        delta = Delta(columns=dict(COLUMNS))
        programs = {}
        courses, sessions, objectives = {}, {}, {}
        for i, r in enumerate(df.itertuples(index=False), start=2):
            prog = check_id(r.program_id, file=f, row=i, column="program_id")
            g = delta.graph(ids.graph("curriculum", prog))
            p = ids.program(prog)
            if prog not in programs:
                programs[prog] = r.program_title
                add_program(g, p, notation=prog, title=r.program_title or prog,
                            framework=ids.framework(fw) if fw else None)
                delta.origin[p] = (f, i)
            year = parse_int(r.year, file=f, row=i, column="year", lo=1, hi=8, required=True)
            code = check_id(r.course_code, file=f, row=i, column="course_code")
            c = ids.course(code)
            check_program_member(members, c, prog, "course", code, file=f, row=i, column="course_code")
            if code in courses:
                if courses[code][:3] != (prog, year, r.course_title):
                    raise LoadError(f"course {code} has another program, year or title than on row "
                                    f"{courses[code][3]}", file=f, row=i, column="course_title")
            else:
                courses[code] = (prog, year, r.course_title, i)
                if not r.course_title:
                    raise LoadError("course_title is empty", file=f, row=i, column="course_title")
                add_course(g, c, code=code, title=r.course_title, program=p, year=year)
                delta.origin[c] = (f, i)
            parent = c
            if r.session_id:
                sid = check_id(r.session_id, file=f, row=i, column="session_id")
                s = ids.session(code, sid)
                if (code, sid) not in sessions:
                    sessions[(code, sid)] = i
                    g.add((s, RDF.type, GM.Session))
                    g.add((s, SKOS.notation, Literal(sid)))
                    g.add((s, DCTERMS.title, Literal(r.session_title or sid)))
                    g.add((s, GM.partOfCourse, c))
                    delta.origin[s] = (f, i)
                parent = s
            oid = check_id(r.objective_id, file=f, row=i, column="objective_id")
            if oid in objectives:
                raise LoadError(f"objective id {oid!r} appears twice (first on row {objectives[oid]})",
                                file=f, row=i, column="objective_id")
            objectives[oid] = i
            check_program_member(members, ids.objective(oid), prog, "objective", oid, file=f, row=i,
                                 column="objective_id")
            if not r.objective_text:
                raise LoadError("objective_text is empty", file=f, row=i, column="objective_text")
            level = parse_int(r.level, file=f, row=i, column="level", lo=1, hi=5)
            o = add_objective(g, ids.objective(oid), notation=oid, text=r.objective_text, course=c, parent=parent,
                              level=level)
            delta.origin[o] = (f, i)
            notations = split_list(r.competencies)
            if notations and not fw:
                raise LoadError("the competencies column is filled but no framework option was given",
                                file=f, row=i, column="competencies")
            for n in notations:
                comp = comps.get(n)
                if comp is None:
                    raise LoadError(f"unknown competency {n!r} in framework {fw!r}", file=f, row=i,
                                    column="competencies")
                a = add_curator_alignment(g, ids, o, oid, comp)
                delta.origin[a] = (f, i)
        delta.summary = {"programs": len(programs), "courses": len(courses), "sessions": len(sessions),
                         "objectives": len(objectives)}
        return delta


class CurriculumXLSX(CurriculumCSV):
    name = "curriculum-xlsx"
    description = "Curriculum as an XLSX workbook (first sheet, same columns as curriculum-csv)"
    sheet = 0
