"""Competency framework from a CSV: domains, competencies, sub-competencies, levels, milestones."""
from __future__ import annotations

from rdflib import Literal
from rdflib.namespace import XSD

from ontology.errors import LoadError
from ontology.vocab import GM, RDF, SKOS

from .base import Context, Delta, Loader, Source, check_id, parse_int, split_list
from .shapes import add_concept, add_framework, tagged

TYPES = ("domain", "competency", "subcompetency", "level", "milestone")
COLUMNS = {
    SKOS.notation: "id", SKOS.prefLabel: "label", SKOS.definition: "description",
    SKOS.altLabel: "alt_labels", SKOS.broader: "parent_id", GM.rank: "id", GM.atLevel: "level",
    GM.milestoneOf: "parent_id",
}


class FrameworkCSV(Loader):
    name = "framework-csv"
    columns = ("id", "type", "label")
    description = "Competency framework CSV (domains, competencies, sub-competencies, levels, milestones)"
    options = {"id": "framework id (required)", "title": "framework title", "version": "framework version"}

    def load(self, source: Source, ctx: Context) -> Delta:
        fw = check_id(ctx.option("id", required=True), file=source.name, row=None, column="id")
        df = source.table(list(self.columns), ["parent_id", "description", "alt_labels", "level"])
        ids, f = ctx.ids, source.name
        delta = Delta(columns=dict(COLUMNS))
        g = delta.graph(ids.graph("framework", fw))
        scheme = ids.framework(fw)
        add_framework(g, scheme, notation=fw, title=ctx.option("title") or fw, version=ctx.option("version"))

        rows = list(df.itertuples(index=False))
        kinds: dict[str, str] = {}
        for i, r in enumerate(rows, start=2):
            kind = r.type.lower()
            if kind not in TYPES:
                raise LoadError(f"type {r.type!r} is not one of {', '.join(TYPES)}", file=f, row=i, column="type")
            nid = check_id(r.id, file=f, row=i, column="id")
            key = (kind if kind in ("level", "milestone") else "concept", nid)
            if key in kinds:
                raise LoadError(f"id {nid!r} appears twice (first on row {kinds[key]})", file=f, row=i, column="id")
            kinds[key] = i
        concepts = {nid: r for (k, nid), r in ((k, rows[i - 2]) for k, i in kinds.items()) if k == "concept"}

        counts = dict.fromkeys(TYPES, 0)
        for i, r in enumerate(rows, start=2):
            kind = r.type.lower()
            counts[kind] += 1
            if not r.label:
                raise LoadError("label is empty", file=f, row=i, column="label")
            if kind == "level":
                rank = parse_int(r.id, file=f, row=i, column="id", lo=1, hi=9, required=True)
                node = ids.level(fw, rank)
                g.add((node, RDF.type, GM.ProficiencyLevel))
                g.add((node, GM.rank, Literal(rank, datatype=XSD.integer)))
                g.add((node, SKOS.inScheme, scheme))
            elif kind == "milestone":
                parent = concepts.get(r.parent_id)
                if parent is None or parent.type.lower() == "domain":
                    raise LoadError(f"parent {r.parent_id!r} is not a competency in this file",
                                    file=f, row=i, column="parent_id")
                rank = parse_int(r.level, file=f, row=i, column="level", lo=1, hi=9, required=True)
                node = ids.milestone(fw, r.parent_id, rank)
                g.add((node, RDF.type, GM.Milestone))
                g.add((node, GM.milestoneOf, ids.concept(fw, r.parent_id)))
                g.add((node, GM.atLevel, ids.level(fw, rank)))
            else:
                broader = None
                if kind != "domain":
                    parent = concepts.get(r.parent_id)
                    want = "domain" if kind == "competency" else ("competency", "subcompetency")
                    if parent is None or parent.type.lower() not in want:
                        raise LoadError(f"parent {r.parent_id!r} is not a {want if isinstance(want, str) else 'competency'} "
                                        "in this file", file=f, row=i, column="parent_id")
                    broader = ids.concept(fw, r.parent_id)
                node = add_concept(g, ids.concept(fw, r.id), scheme, notation=r.id, domain=kind == "domain",
                                   broader=broader, alt_labels=split_list(r.alt_labels, "|"))
            g.add((node, SKOS.prefLabel, tagged(r.label)))
            if r.description:
                g.add((node, SKOS.definition, tagged(r.description)))
            delta.origin[node] = (f, i)
        delta.summary = {"domains": counts["domain"], "competencies": counts["competency"] + counts["subcompetency"],
                         "levels": counts["level"], "milestones": counts["milestone"]}
        return delta
