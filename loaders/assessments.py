"""Assessments CSV (exams, OSCE stations, portfolios, workplace-based) and per-learner results CSV."""
from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from ontology.errors import LoadError
from ontology.vocab import ASSESSMENT_KINDS, DCTERMS, GM, RDF, SCHEMA, SKOS

from .base import Context, Delta, Loader, Source, check_id, parse_int, split_list
from .resolve import competency_index

COLUMNS = {SCHEMA.assesses: "competencies", GM.assessesObjective: "objectives", GM.assessedLevel: "level",
           GM.assessmentIn: "course_code", DCTERMS.title: "title"}


def _program_index(ctx: Context, prog: str) -> tuple[dict[str, URIRef], dict[str, URIRef]]:
    """Course code -> IRI and objective id -> IRI for one loaded program."""
    pid = ctx.ids.program(prog)
    rows = ctx.store.select("program_objectives", program=pid) if ctx.store is not None else []
    courses = {r["code"]: URIRef(r["course"]) for r in rows}
    objectives = {r["oid"]: URIRef(r["objective"]) for r in rows}
    return courses, objectives


class AssessmentsCSV(Loader):
    name = "assessments-csv"
    columns = ("assessment_id", "program_id", "course_code", "kind", "title")
    description = "Assessments of a program, linked to courses, competencies and objectives"
    options = {"framework": "id of the framework the competencies column refers to"}

    def load(self, source: Source, ctx: Context) -> Delta:
        df = source.table(list(self.columns),
                          ["competencies", "objectives", "level"])
        f, ids = source.name, ctx.ids
        fw = ctx.option("framework")
        comps = competency_index(ctx, fw) if fw else {}
        delta = Delta(columns=dict(COLUMNS))
        seen, indexes = {}, {}
        for i, r in enumerate(df.itertuples(index=False), start=2):
            aid = check_id(r.assessment_id, file=f, row=i, column="assessment_id")
            if aid in seen:
                raise LoadError(f"assessment id {aid!r} appears twice (first on row {seen[aid]})",
                                file=f, row=i, column="assessment_id")
            seen[aid] = i
            prog = check_id(r.program_id, file=f, row=i, column="program_id")
            if prog not in indexes:
                indexes[prog] = _program_index(ctx, prog)
                if not indexes[prog][0]:
                    raise LoadError(f"program {prog!r} is not loaded (load its curriculum first)",
                                    file=f, row=i, column="program_id")
            courses, objectives = indexes[prog]
            course = courses.get(r.course_code)
            if course is None:
                raise LoadError(f"course {r.course_code!r} is not in program {prog!r}", file=f, row=i,
                                column="course_code")
            kind = ASSESSMENT_KINDS.get(r.kind.lower())
            if kind is None:
                raise LoadError(f"kind {r.kind!r} is not one of {', '.join(ASSESSMENT_KINDS)}", file=f, row=i,
                                column="kind")
            if not r.title:
                raise LoadError("title is empty", file=f, row=i, column="title")
            g = delta.graph(ids.graph("assessments", prog))
            a = ids.assessment(aid)
            g.add((a, RDF.type, GM.Assessment))
            g.add((a, RDF.type, kind))
            g.add((a, SKOS.notation, Literal(aid)))
            g.add((a, DCTERMS.title, Literal(r.title)))
            g.add((a, GM.assessmentIn, course))
            level = parse_int(r.level, file=f, row=i, column="level", lo=1, hi=5)
            if level is not None:
                g.add((a, GM.assessedLevel, Literal(level, datatype=XSD.integer)))
            notations = split_list(r.competencies)
            if notations and not fw:
                raise LoadError("the competencies column is filled but no framework option was given",
                                file=f, row=i, column="competencies")
            for n in notations:
                if n not in comps:
                    raise LoadError(f"unknown competency {n!r} in framework {fw!r}", file=f, row=i,
                                    column="competencies")
                g.add((a, SCHEMA.assesses, comps[n]))
            for oid in split_list(r.objectives):
                if oid not in objectives:
                    raise LoadError(f"unknown objective {oid!r} in program {prog!r}", file=f, row=i,
                                    column="objectives")
                g.add((a, GM.assessesObjective, objectives[oid]))
            delta.origin[a] = (f, i)
        delta.summary = {"assessments": len(seen)}
        return delta


class ResultsCSV(Loader):
    name = "results-csv"
    columns = ("assessment_id", "learner_id", "cohort", "score", "passed")
    description = "Assessment results per learner (pseudonymous), for cohort achievement"
    options = {"program": "program id the assessments belong to (names the graph)"}

    def load(self, source: Source, ctx: Context) -> Delta:
        prog = check_id(ctx.option("program", required=True), file=source.name, row=None, column="program")
        df = source.table(list(self.columns), row_factor=10)
        f, ids = source.name, ctx.ids
        known = set()
        if ctx.store is not None:
            known = {r["aid"] for r in ctx.store.select("program_assessments", program=ids.program(prog))}
        delta = Delta(columns={GM.score: "score", GM.passed: "passed", GM.cohort: "cohort"})
        seen = {}
        for i, r in enumerate(df.itertuples(index=False), start=2):
            cohort = str(r.cohort).strip()
            if not cohort:
                raise LoadError("is empty (every result belongs to a cohort)", file=f, row=i, column="cohort")
            if len(cohort) > 50:
                raise LoadError(f"is {len(cohort)} characters long (at most 50)", file=f, row=i, column="cohort")
            # one graph per program AND cohort: loading cohort 2030 replaces 2030's results only
            g = delta.graph(results_graph(ids, prog, cohort))
            aid = check_id(r.assessment_id, file=f, row=i, column="assessment_id")
            if ctx.store is not None and aid not in known:
                raise LoadError(f"unknown assessment {aid!r} in program {prog!r}", file=f, row=i,
                                column="assessment_id")
            learner = check_id(r.learner_id, file=f, row=i, column="learner_id")
            if (aid, learner, cohort) in seen:
                raise LoadError(f"a second result for learner {learner} in cohort {cohort} (first on row "
                                f"{seen[(aid, learner, cohort)]})",
                                file=f, row=i, column="learner_id")
            seen[(aid, learner, cohort)] = i
            try:
                score = float(r.score)
            except ValueError:
                raise LoadError(f"{r.score!r} is not a number", file=f, row=i, column="score") from None
            if not 0 <= score <= 1:
                raise LoadError(f"{score} is not between 0 and 1", file=f, row=i, column="score")
            passed = r.passed.lower()
            if passed not in ("true", "false", "1", "0", "yes", "no"):
                raise LoadError(f"{r.passed!r} is not true/false", file=f, row=i, column="passed")
            node = ids.result(aid, learner, cohort)
            g.add((node, RDF.type, GM.AssessmentResult))
            g.add((node, GM.resultOf, ids.assessment(aid)))
            g.add((node, GM.learner, Literal(learner)))
            g.add((node, GM.cohort, Literal(cohort)))
            g.add((node, GM.score, Literal(f"{score:.4f}", datatype=XSD.decimal)))
            g.add((node, GM.passed, Literal(passed in ("true", "1", "yes"))))
            delta.origin[node] = (f, i)
        _migrate_program_graph(ctx, prog, delta)
        delta.summary = {"results": len(seen), "learners": len({k[1] for k in seen}),
                         "cohorts": sum(1 for _ in delta.graphs)}
        return delta


def results_graph(ids, prog: str, cohort: str) -> URIRef:
    """The private graph of one program's results for one cohort (``…/graph/results/<program>/<cohort>``)."""
    return ids.iri("graph", "results", prog, cohort)


def _migrate_program_graph(ctx: Context, prog: str, delta: Delta) -> None:
    """Results loaded before graphs were per cohort sit in one graph per program: split it into
    per-cohort graphs (except the cohorts this file replaces) and drop it, in the same ingest.
    The loader runs under the store's write lock, so nothing lands between this read and the write."""
    if ctx.store is None:
        return
    old = ctx.ids.graph("results", prog)
    if str(old) not in set(ctx.store.graph_names()):
        return
    legacy = ctx.store.graph(old)
    replaced = set(delta.graphs)
    for node in set(legacy.subjects(GM.cohort, None)):
        cohort = str(legacy.value(node, GM.cohort)).strip()
        name = results_graph(ctx.ids, prog, cohort)
        if name in replaced:
            continue
        g = delta.graph(name)
        for t in legacy.triples((node, None, None)):
            g.add(t)
    delta.graphs[old] = Graph()  # dropped
