"""Job roles / career pathway steps with their competency requirements (one row per requirement)."""
from __future__ import annotations

from rdflib import Literal
from rdflib.namespace import XSD

from ontology.errors import LoadError
from ontology.vocab import DCTERMS, ESCO, ESSENTIAL, GM, OPTIONAL, RDF, SCHEMA, SKOS, STAGES, TRACKS

from .base import Context, Delta, Loader, Source, check_id, parse_int, split_list
from .resolve import competency_index

RELATIONS = {"essential": (ESSENTIAL, ESCO.relatedEssentialSkill), "optional": (OPTIONAL, ESCO.relatedOptionalSkill)}


def add_role(g, ids, rid, title, track, description=None):
    """The triples of one job role (shared by every roles loader)."""
    role = ids.role(rid)
    g.add((role, RDF.type, GM.JobRole))
    g.add((role, RDF.type, SCHEMA.Occupation))
    g.add((role, SKOS.notation, Literal(rid)))
    g.add((role, DCTERMS.title, Literal(title)))
    g.add((role, GM.track, track))
    if description:
        g.add((role, SKOS.definition, Literal(description, lang="en")))
    return role


def add_requirement(g, ids, rid, fw, notation, comp, level, relation, importance=None, stage=None):
    """One role requirement node plus the schema.org / ESCO shortcut triples.

    ``stage`` (a key of ``STAGES``): when in training the level is expected; none = at every stage."""
    role = ids.role(rid)
    rel, esco_prop = RELATIONS[relation]
    req = ids.requirement(rid, fw, notation, stage)
    if stage:
        g.add((req, GM.stage, STAGES[stage]))
    g.add((req, RDF.type, GM.RoleRequirement))
    g.add((req, GM.requirementOf, role))
    g.add((req, GM.requiresCompetency, comp))
    g.add((req, GM.requiredLevel, Literal(level, datatype=XSD.integer)))
    g.add((req, GM.relation, rel))
    if importance is not None:
        g.add((req, GM.importance, Literal(f"{importance:.2f}", datatype=XSD.decimal)))
    g.add((role, SCHEMA.competencyRequired, comp))
    g.add((role, esco_prop, comp))
    return req


class RolesCSV(Loader):
    name = "roles-csv"
    columns = ("role_id", "title", "track", "competency", "required_level", "relation")
    description = "Job roles and career pathways: one row per competency requirement"
    options = {"id": "role set id (names the graph)", "framework": "framework the competency column refers to"}

    def load(self, source: Source, ctx: Context) -> Delta:
        f, ids = source.name, ctx.ids
        set_id = check_id(ctx.option("id", required=True), file=f, row=None, column="id")
        fw = ctx.option("framework", required=True)
        df = source.table(list(self.columns),
                          ["description", "next_roles", "stage"])
        has_stage = "stage" in df.columns
        comps = competency_index(ctx, fw)
        delta = Delta(columns={GM.stage: "stage", GM.requiredLevel: "required_level", GM.relation: "relation",
                               GM.requiresCompetency: "competency", DCTERMS.title: "title", GM.track: "track"})
        g = delta.graph(ids.graph("roles", set_id))
        roles, reqs, transitions = {}, {}, []
        for i, r in enumerate(df.itertuples(index=False), start=2):
            rid = check_id(r.role_id, file=f, row=i, column="role_id")
            track = TRACKS.get(r.track.lower())
            if track is None:
                raise LoadError(f"track {r.track!r} is not one of {', '.join(TRACKS)}", file=f, row=i, column="track")
            if rid not in roles:
                if not r.title:
                    raise LoadError("title is empty", file=f, row=i, column="title")
                roles[rid] = i
                delta.origin[add_role(g, ids, rid, r.title, track, r.description)] = (f, i)
            for nxt in split_list(r.next_roles):
                transitions.append((rid, nxt, i))
            comp = comps.get(r.competency)
            if comp is None:
                raise LoadError(f"unknown competency {r.competency!r} in framework {fw!r}", file=f, row=i,
                                column="competency")
            stage = (r.stage.strip().lower().replace(" ", "_").replace("-", "_") if has_stage else "") or None
            if stage is not None and stage not in STAGES:
                raise LoadError(f"stage {r.stage!r} is not one of {', '.join(STAGES)}", file=f, row=i,
                                column="stage")
            key = (rid, r.competency, stage)
            if key in reqs:
                at = f" at stage {stage}" if stage else ""
                raise LoadError(f"role {rid} lists {r.competency}{at} twice (first on row {reqs[key]})",
                                file=f, row=i, column="competency")
            reqs[key] = i
            level = parse_int(r.required_level, file=f, row=i, column="required_level", lo=1, hi=5, required=True)
            relation = r.relation.lower()
            if relation not in RELATIONS:
                raise LoadError(f"relation {r.relation!r} is not essential or optional", file=f, row=i,
                                column="relation")
            delta.origin[add_requirement(g, ids, rid, fw, r.competency, comp, level, relation,
                                          stage=stage)] = (f, i)
        for rid, nxt, i in transitions:
            if nxt not in roles:
                raise LoadError(f"next role {nxt!r} is not a role in this file", file=f, row=i, column="next_roles")
            g.add((ids.role(rid), GM.transitionsTo, ids.role(nxt)))
        delta.summary = {"roles": len(roles), "requirements": len(reqs), "transitions": len({(a, b) for a, b, _ in transitions})}
        return delta
