"""ESCO occupations with their essential/optional skills (a folder, e.g. the ESCO v1.1.1 health subset).

Source: a folder with ``occupations.csv`` (uri, label, description, isco_group; optional alt_labels,
esco_code), ``occupation_skill_relations.csv`` (occupation_uri, relation_type, skill_uri) and ``skills.csv``
(uri, label, skill_type, reuse_level; optional alt_labels, description).  Other columns are ignored.

Options:
  ``id``              framework id (default ``esco``)
  ``roles_id``        role set id (default ``esco``)
  ``title``, ``version``  framework title / version
  ``isco_groups``     ISCO-08 codes to keep, ``;``-separated or a list; a code keeps every group it
                      prefixes (``22`` keeps 2211..2269); default all occupations
  ``domains``         ``skill_type`` (default) or ``reuse_level``
  ``required_level``  the gm:requiredLevel of every requirement, 1..5 (default 3)

Mapping:
  * Framework ``B/framework/{id}``: every skill in skills.csv is a ``gm:Competency`` with notation = the
    UUID at the end of its ESCO URI, prefLabel = label, altLabel = each alt label (`` | ``-separated) other
    than the label, definition = description, and ``skos:exactMatch`` the ESCO URI.  Domains
    (``domains=skill_type``): ``skills`` "Skills and competences" (skill_type skill/competence) and
    ``knowledge`` "Knowledge"; with ``domains=reuse_level``: ``transversal``, ``cross-sector``,
    ``sector-specific``, ``occupation-specific``.  Skill type reads better in a gap report (two clear
    groups, like O*NET's skills/knowledge); reuse level is offered for breadth analyses.
  * Roles graph ``B/graph/roles/{roles_id}``: each occupation is a ``gm:JobRole`` ``B/role/{roles_id}-{UUID}``
    (UUID of the ESCO occupation URI) with dcterms:title, skos:definition, skos:altLabel, dcterms:identifier
    = ESCO code, schema:occupationalCategory = ISCO group, ``skos:exactMatch`` the ESCO URI.
    Track: ``gm:LeadershipTrack`` for ISCO 1342/1343 (health / aged-care services managers), otherwise
    ``gm:ClinicalTrack``.
  * Each relation is a ``gm:RoleRequirement`` with ``gm:relation`` Essential/Optional as in ESCO and
    ``gm:requiredLevel`` = ``required_level`` (ESCO has no proficiency levels), plus the
    ``schema:competencyRequired`` and ``esco:relatedEssentialSkill`` / ``esco:relatedOptionalSkill``
    shortcuts on the role.

Data: ESCO v1.1.1, (c) European Union, https://esco.ec.europa.eu (reuse with acknowledgement of the source).
"""
from __future__ import annotations

import re

from rdflib import Literal, URIRef

from ontology.errors import LoadError
from ontology.vocab import DCTERMS, GM, SCHEMA, SKOS, TRACKS

from .base import Context, Delta, Loader, Source, check_id, parse_int, split_list
from .shapes import add_concept, add_framework
from .tables import first_bad, folder_of, folder_table, list_option
from .roles import add_requirement, add_role

FILES = {
    "occupations": ("occupations.csv", ["uri", "label", "description", "isco_group"]),
    "relations": ("occupation_skill_relations.csv", ["occupation_uri", "relation_type", "skill_uri"]),
    "skills": ("skills.csv", ["uri", "label", "skill_type", "reuse_level"]),
}
DOMAINS = {
    "skill_type": {"skill/competence": ("skills", "Skills and competences",
                                        "ESCO skills and competences: the ability to apply knowledge and use "
                                        "know-how to complete tasks and solve problems."),
                   "knowledge": ("knowledge", "Knowledge",
                                 "ESCO knowledge: the body of facts, principles, theories and practices "
                                 "related to a field of work or study.")},
    "reuse_level": {"transversal": ("transversal", "Transversal skills and knowledge",
                                    "Relevant to a broad range of occupations and sectors."),
                    "cross-sector": ("cross-sector", "Cross-sector skills and knowledge",
                                     "Relevant to occupations across several economic sectors."),
                    "sector-specific": ("sector-specific", "Sector-specific skills and knowledge",
                                        "Specific to one sector but relevant to more than one occupation in it."),
                    "occupation-specific": ("occupation-specific", "Occupation-specific skills and knowledge",
                                            "Applied only in one occupation or specialism.")},
}
LEADERSHIP_GROUPS = ("1342", "1343")
RELATIONS = ("essential", "optional")
COLUMNS = {
    SKOS.notation: "uri", SKOS.prefLabel: "label", SKOS.altLabel: "alt_labels", SKOS.definition: "description",
    SKOS.exactMatch: "uri", DCTERMS.title: "label", GM.relation: "relation_type",
    GM.requiresCompetency: "skill_uri", GM.requirementOf: "occupation_uri",
}
_UUID_TAIL = re.compile(r"/([^/#]+)$")


def uri_tail(uri: str, *, file: str, row: int, column: str) -> str:
    """The last path segment of an ESCO URI (its UUID), checked as an id."""
    m = _UUID_TAIL.search(uri or "")
    if not m or not uri.startswith(("http://", "https://")):
        raise LoadError(f"{uri!r} is not an ESCO URI", file=file, row=row, column=column)
    return check_id(m.group(1), file=file, row=row, column=column)


class Esco(Loader):
    name = "esco"
    description = "ESCO folder: occupations with essential/optional skills"
    options = {
        "id": "framework id (default esco)", "roles_id": "role set id (default esco)",
        "title": "framework title", "version": "framework version",
        "isco_groups": "ISCO-08 group codes (or prefixes) to keep, ';'-separated; default all",
        "domains": "skill_type (default) or reuse_level",
        "required_level": "required level (1-5) given to every requirement (default 3)",
    }

    def load(self, source: Source, ctx: Context) -> Delta:
        folder = folder_of(source)
        fw = check_id(ctx.option("id") or "esco", file=source.name, row=None, column="id")
        set_id = check_id(ctx.option("roles_id") or "esco", file=source.name, row=None, column="roles_id")
        mode = ctx.option("domains") or "skill_type"
        if mode not in DOMAINS:
            raise LoadError(f"option domains={mode!r} is not skill_type or reuse_level", column="domains")
        level = parse_int(str(ctx.option("required_level", 3)), file=None, row=None, column="required_level",
                          lo=1, hi=5, required=True)
        groups = list_option(ctx, "isco_groups")
        ids = ctx.ids
        t = {k: folder_table(folder, fname, cols) for k, (fname, cols) in FILES.items()}
        fname = {k: f"{folder.name}/{v[0]}" for k, v in FILES.items()}
        delta = Delta(columns=dict(COLUMNS))

        # Framework graph: skills.
        g = delta.graph(ids.graph("framework", fw))
        scheme = ids.framework(fw)
        add_framework(g, scheme, notation=fw, title=ctx.option("title") or "ESCO skills and knowledge",
                      version=ctx.option("version"), source=Literal("ESCO, European Commission (c) European Union"))
        sk, f = t["skills"], fname["skills"]
        alt = sk["alt_labels"] if "alt_labels" in sk.columns else [""] * len(sk)
        desc = sk["description"] if "description" in sk.columns else [""] * len(sk)
        skills: dict[str, tuple[str, int]] = {}  # ESCO URI -> (notation, row)
        domains: dict[str, URIRef] = {}
        table = DOMAINS[mode]
        for i, (uri, label, stype, reuse, alts, d) in enumerate(
                zip(sk["uri"], sk["label"], sk["skill_type"], sk["reuse_level"], alt, desc), start=2):
            notation = uri_tail(uri, file=f, row=i, column="uri")
            if uri in skills:
                raise LoadError(f"skill {uri} appears twice (first on row {skills[uri][1]})", file=f, row=i,
                                column="uri")
            if not label:
                raise LoadError("label is empty", file=f, row=i, column="label")
            skills[uri] = (notation, i)
            value = (stype if mode == "skill_type" else reuse).strip().lower()
            dom_id, dom_label, dom_def = table.get(value) or _other_domain(value)
            if dom_id not in domains:
                dn = domains[dom_id] = add_concept(g, ids.concept(fw, dom_id), scheme, notation=dom_id, domain=True,
                                                   label=dom_label, definition=dom_def)
                delta.origin[dn] = (f, i)
            node = add_concept(g, ids.concept(fw, notation), scheme, notation=notation, broader=domains[dom_id],
                               label=label, definition=d or None,
                               alt_labels=[a for a in split_list(alts, "|") if a != label])
            g.add((node, SKOS.exactMatch, URIRef(uri)))
            delta.origin[node] = (f, i)

        # Roles graph: occupations.
        rg = delta.graph(ids.graph("roles", set_id))
        oc, f = t["occupations"], fname["occupations"]
        if groups is not None:
            for grp in groups:
                if not oc["isco_group"].str.startswith(grp).any():
                    raise LoadError(f"option isco_groups: no occupation is in ISCO group {grp!r}", file=f,
                                    column="isco_groups")
        alt = oc["alt_labels"] if "alt_labels" in oc.columns else [""] * len(oc)
        code = oc["esco_code"] if "esco_code" in oc.columns else [""] * len(oc)
        occupations: dict[str, tuple[str, int] | None] = {}  # URI -> (role id, row), None when filtered out
        for i, (uri, label, d, grp, alts, c) in enumerate(
                zip(oc["uri"], oc["label"], oc["description"], oc["isco_group"], alt, code), start=2):
            tail = uri_tail(uri, file=f, row=i, column="uri")
            if uri in occupations:
                raise LoadError(f"occupation {uri} appears twice", file=f, row=i, column="uri")
            if groups is not None and not any(grp.startswith(x) for x in groups):
                occupations[uri] = None
                continue
            if not label:
                raise LoadError("label is empty", file=f, row=i, column="label")
            role_id = f"{set_id}-{tail}"
            track = TRACKS["leadership" if grp in LEADERSHIP_GROUPS else "clinical"]
            role = add_role(rg, ids, role_id, label, track, d)
            rg.add((role, SKOS.exactMatch, URIRef(uri)))
            if grp:
                rg.add((role, SCHEMA.occupationalCategory, Literal(grp)))
            if c:
                rg.add((role, DCTERMS.identifier, Literal(c)))
            for a in split_list(alts, "|"):
                if a != label:
                    rg.add((role, SKOS.altLabel, Literal(a, lang="en")))
            occupations[uri] = (role_id, i)
            delta.origin[role] = (f, i)

        # Requirements: vectorised checks, then one loop.
        rel, f = t["relations"], fname["relations"]
        i = first_bad(~rel["occupation_uri"].isin(occupations.keys()))
        if i is not None:
            raise LoadError(f"unknown occupation {rel['occupation_uri'].iloc[i]!r} (not in occupations.csv)",
                            file=f, row=i + 2, column="occupation_uri")
        i = first_bad(~rel["skill_uri"].isin(skills.keys()))
        if i is not None:
            raise LoadError(f"unknown skill {rel['skill_uri'].iloc[i]!r} (not in skills.csv)",
                            file=f, row=i + 2, column="skill_uri")
        kinds = rel["relation_type"].str.lower()
        i = first_bad(~kinds.isin(RELATIONS))
        if i is not None:
            raise LoadError(f"relation_type {rel['relation_type'].iloc[i]!r} is not essential or optional",
                            file=f, row=i + 2, column="relation_type")
        i = first_bad(rel.duplicated(["occupation_uri", "skill_uri"]))
        if i is not None:
            raise LoadError("this occupation / skill pair appears twice", file=f, row=i + 2, column="skill_uri")
        counts = dict.fromkeys(RELATIONS, 0)
        for i, (occ, skill, kind) in enumerate(zip(rel["occupation_uri"], rel["skill_uri"], kinds), start=2):
            target = occupations[occ]
            if target is None:
                continue
            notation = skills[skill][0]
            req = add_requirement(rg, ids, target[0], fw, notation, ids.concept(fw, notation), level, kind)
            delta.origin[req] = (f, i)
            counts[kind] += 1
        delta.summary = {"domains": len(domains), "competencies": len(skills),
                         "roles": sum(1 for v in occupations.values() if v), "requirements": sum(counts.values()),
                         "essential": counts["essential"], "optional": counts["optional"]}
        return delta


def _other_domain(value: str) -> tuple[str, str, str]:
    if not value:
        return "unclassified", "Unclassified", "Skills without a type in the source."
    slug = re.sub(r"[^a-z0-9]+", "-", value).strip("-") or "other"
    return slug, value.capitalize(), f"ESCO skills of type {value!r}."
