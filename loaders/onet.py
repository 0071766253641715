"""O*NET occupations with Skills and Knowledge ratings (a folder, e.g. the O*NET 29.3 healthcare subset).

Source: a folder with ``occupations.csv`` (onet_soc_code, title, description), ``skills_im_lv.csv`` and
``knowledge_im_lv.csv`` (onet_soc_code, element_id, element_name, importance_im, level_lv, not_relevant;
optional recommend_suppress), ``content_model_reference.csv`` (element_id, element_name, description),
``scales_reference.csv`` (Scale ID, Minimum, Maximum; the IM and LV rows) and ``job_zones.csv``
(O*NET-SOC Code, Job Zone).  If ``skills_ratings_long.csv`` / ``knowledge_ratings_long.csv`` are present,
their ``recommend_suppress`` flags are honoured too.

Options:
  ``id``                  framework id (default ``onet``)
  ``roles_id``            role set id (default ``onet``)
  ``title``, ``version``  framework title / version
  ``min_importance``      lowest IM that becomes a requirement (default 3.0)
  ``essential_importance`` IM from which a requirement is essential, below it optional (default 3.5)
  ``occupations``         SOC codes to keep (list, or ``;``-separated); default all
  ``domains``             ``content_model`` (default) or ``kind``

Mapping:
  * Framework ``B/framework/{id}``: every skill and knowledge element rated in the files becomes a
    ``gm:Competency`` with notation = O*NET element id (``2.A.1.a``), prefLabel = element name and
    definition = content-model description.  Domains (``domains=content_model``) are the element's
    content-model parent (``2.A.1`` "Basic Skills: Content", ``2.C.5`` "Knowledge: Health Services"; the two
    knowledge elements that sit directly under ``2.C``, Education and Training and Transportation, fall in
    domain ``2.C`` "Knowledge"): 16 domains on the 29.3 files.  ``domains=kind``: two domains ``skills``
    and ``knowledge``.
  * Roles graph ``B/graph/roles/{roles_id}``: each occupation is a ``gm:JobRole`` (+ ``schema:Occupation``)
    ``B/role/{roles_id}-{SOC code}`` (skos:notation = that id) with dcterms:title, skos:definition,
    schema:occupationalCategory = SOC code, schema:educationRequirements = "O*NET Job Zone n: ...".
    Track: ``gm:ClinicalTrack`` for 29-* (practitioners, technical) and for 31-* (healthcare support:
    aides, assistants, all patient-facing; the other tracks, research/teaching/leadership, do not fit
    any of them).  Occupations without ratings are kept as roles without requirements.
  * One ``gm:RoleRequirement`` per rated element with IM >= ``min_importance`` (rows with
    not_relevant=Y or recommend_suppress=Y on IM or LV are skipped): ``gm:importance`` = IM (decimal),
    ``gm:requiredLevel`` = LV (0..7) on our 1..5 scale = floor(1 + 4 * LV / 7 + 0.5)
    (0->1, 1.75->2, 3.5->3, 5.25->4, 7->5; the bounds come from scales_reference.csv),
    ``gm:relation`` = ``gm:Essential`` if IM >= ``essential_importance`` else ``gm:Optional``.
    Shortcuts on the role (as roles-csv): ``schema:competencyRequired`` and
    ``esco:relatedEssentialSkill`` / ``esco:relatedOptionalSkill``.

Data: O*NET 29.3 Database by USDOL/ETA, CC BY 4.0 (https://www.onetcenter.org/license_db.html).
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from rdflib import Literal, URIRef

from ontology.errors import LoadError
from ontology.vocab import DCTERMS, GM, SCHEMA, SKOS, TRACKS

from .base import Context, Delta, Loader, Source, check_id
from .shapes import add_concept, add_framework
from .tables import first_bad, float_option, folder_of, folder_table, list_option, number_column
from .roles import add_requirement, add_role

FILES = {
    "occupations": ("occupations.csv", ["onet_soc_code", "title", "description"]),
    "skills": ("skills_im_lv.csv", ["onet_soc_code", "element_id", "importance_im", "level_lv", "not_relevant"]),
    "knowledge": ("knowledge_im_lv.csv", ["onet_soc_code", "element_id", "importance_im", "level_lv",
                                          "not_relevant"]),
    "content_model": ("content_model_reference.csv", ["element_id", "element_name", "description"]),
    "scales": ("scales_reference.csv", ["Scale ID", "Minimum", "Maximum"]),
    "job_zones": ("job_zones.csv", ["O*NET-SOC Code", "Job Zone"]),
}
LONG_FILES = {"skills": "skills_ratings_long.csv", "knowledge": "knowledge_ratings_long.csv"}
LONG_COLUMNS = ["onet_soc_code", "element_id", "scale_id", "recommend_suppress"]
JOB_ZONES = {"1": "little or no preparation needed", "2": "some preparation needed",
             "3": "medium preparation needed", "4": "considerable preparation needed",
             "5": "extensive preparation needed"}
KIND_DOMAINS = {
    "skills": ("Skills", "Developed capacities that facilitate learning and performance across jobs "
                         "(O*NET Basic and Cross-Functional Skills)."),
    "knowledge": ("Knowledge", "Organized sets of principles and facts applying in general domains."),
}
COLUMNS = {
    SKOS.notation: "element_id", SKOS.prefLabel: "element_name", SKOS.definition: "description",
    DCTERMS.title: "title", GM.requiresCompetency: "element_id", GM.importance: "importance_im",
    GM.requiredLevel: "level_lv", GM.relation: "importance_im", GM.requirementOf: "onet_soc_code",
}


# --- reading CSVs out of a folder (shared with the ESCO loader) -------------------------------------------
def lv_to_level(lv: float, lo: float = 0.0, hi: float = 7.0) -> int:
    """O*NET LV (lo..hi, 0..7) on the Gapmap 1..5 scale, rounding halves up."""
    return int(math.floor(1 + 4 * (lv - lo) / (hi - lo) + 0.5))


# --- the loader ----------------------------------------------------------------------------------------------
class ONet(Loader):
    name = "onet"
    description = "O*NET folder: occupations with Skills/Knowledge importance and level ratings"
    options = {
        "id": "framework id (default onet)", "roles_id": "role set id (default onet)",
        "title": "framework title", "version": "framework version",
        "min_importance": "lowest importance (IM, 1-5) that becomes a requirement (default 3.0)",
        "essential_importance": "IM from which a requirement is essential, else optional (default 3.5)",
        "occupations": "SOC codes to keep (';'-separated), default all",
        "domains": "content_model (default: O*NET content-model groups) or kind (Skills, Knowledge)",
    }

    def load(self, source: Source, ctx: Context) -> Delta:
        folder = folder_of(source)
        fw = check_id(ctx.option("id") or "onet", file=source.name, row=None, column="id")
        set_id = check_id(ctx.option("roles_id") or "onet", file=source.name, row=None, column="roles_id")
        min_im = float_option(ctx, "min_importance", 3.0)
        ess_im = float_option(ctx, "essential_importance", 3.5)
        domain_mode = ctx.option("domains") or "content_model"
        if domain_mode not in ("content_model", "kind"):
            raise LoadError(f"option domains={domain_mode!r} is not content_model or kind", column="domains")
        keep = list_option(ctx, "occupations")
        ids = ctx.ids
        tables = {k: folder_table(folder, fname, cols) for k, (fname, cols) in FILES.items()}
        fname = {k: f"{folder.name}/{v[0]}" for k, v in FILES.items()}
        delta = Delta(columns=dict(COLUMNS))

        # Scales: bounds of IM and LV.
        scales, bounds = tables["scales"], {}
        for sid in ("IM", "LV"):
            i = first_bad(scales["Scale ID"].eq(sid))
            if i is None:
                raise LoadError(f"no row for scale {sid}", file=fname["scales"], column="Scale ID")
            one = scales.iloc[[i]]
            bounds[sid] = (float(number_column(one, "Minimum", fname["scales"], -1e9, 1e9).iloc[0]),
                           float(number_column(one, "Maximum", fname["scales"], -1e9, 1e9).iloc[0]))

        # Content model: element id -> (row, name, description).
        cm = tables["content_model"]
        model = {e: (i + 2, n, d) for i, (e, n, d) in
                 enumerate(zip(cm["element_id"], cm["element_name"], cm["description"]))}

        # Occupations.
        occ = tables["occupations"]
        occ_row: dict[str, int] = {}
        for i, code in enumerate(occ["onet_soc_code"], start=2):
            check_id(code, file=fname["occupations"], row=i, column="onet_soc_code")
            if code in occ_row:
                raise LoadError(f"occupation {code!r} appears twice (first on row {occ_row[code]})",
                                file=fname["occupations"], row=i, column="onet_soc_code")
            occ_row[code] = i
        if keep is not None:
            unknown = [c for c in keep if c not in occ_row]
            if unknown:
                raise LoadError(f"option occupations names unknown SOC code(s): {', '.join(unknown)}",
                                file=fname["occupations"], column="occupations")
        zones = dict(zip(tables["job_zones"]["O*NET-SOC Code"], tables["job_zones"]["Job Zone"]))

        # Ratings: validate, then decide which rows become requirements.
        suppressed = self._suppressed(folder)
        ratings = []  # (kind, file, rows that become requirements, with _im and _lv)
        seen_elements: dict[str, tuple[str, str, int]] = {}  # element -> (kind, file, row)
        for kind in ("skills", "knowledge"):
            df, f = tables[kind], fname[kind]
            i = first_bad(~df["onet_soc_code"].isin(occ_row.keys()))
            if i is not None:
                raise LoadError(f"occupation {df['onet_soc_code'].iloc[i]!r} is not in occupations.csv",
                                file=f, row=i + 2, column="onet_soc_code")
            i = first_bad(~df["element_id"].isin(model.keys()))
            if i is not None:
                raise LoadError(f"element {df['element_id'].iloc[i]!r} is not in content_model_reference.csv",
                                file=f, row=i + 2, column="element_id")
            i = first_bad(df.duplicated(["onet_soc_code", "element_id"]))
            if i is not None:
                raise LoadError(f"{df['onet_soc_code'].iloc[i]} / {df['element_id'].iloc[i]} is rated twice",
                                file=f, row=i + 2, column="element_id")
            for j, e in enumerate(df["element_id"], start=2):
                if e not in seen_elements:
                    check_id(e, file=f, row=j, column="element_id")
                    seen_elements[e] = (kind, f, j)
                elif seen_elements[e][0] != kind:
                    raise LoadError(f"element {e!r} is rated both as a skill and as knowledge",
                                    file=f, row=j, column="element_id")
            if keep is not None:
                df = df[df["onet_soc_code"].isin(keep)]
            skip_nr = df["not_relevant"].str.upper().eq("Y")
            skip_sup = pd.Series(False, index=df.index)
            if "recommend_suppress" in df.columns:
                skip_sup |= df["recommend_suppress"].str.upper().eq("Y")
            if suppressed.get(kind):
                keys = df["onet_soc_code"] + "\t" + df["element_id"]
                skip_sup |= keys.isin(suppressed[kind])
            used = df[~skip_nr & ~skip_sup].copy()
            used["_im"] = number_column(used, "importance_im", f, *bounds["IM"])
            used["_lv"] = number_column(used, "level_lv", f, *bounds["LV"])
            delta.summary["skipped_not_relevant"] = delta.summary.get("skipped_not_relevant", 0) + int(skip_nr.sum())
            delta.summary["skipped_suppressed"] = delta.summary.get("skipped_suppressed", 0) + \
                int((skip_sup & ~skip_nr).sum())
            delta.summary["below_min_importance"] = delta.summary.get("below_min_importance", 0) + \
                int((used["_im"] < min_im).sum())
            used = used[used["_im"] >= min_im]
            ratings.append((kind, f, used))

        # Framework graph.
        g = delta.graph(ids.graph("framework", fw))
        scheme = ids.framework(fw)
        add_framework(g, scheme, notation=fw, title=ctx.option("title") or "O*NET Skills and Knowledge",
                      version=ctx.option("version"), source=Literal("O*NET Database, USDOL/ETA (CC BY 4.0)"))
        cm_file = f"{folder.name}/{FILES['content_model'][0]}"
        domains: dict[str, URIRef] = {}

        def domain_of(element: str, kind: str) -> URIRef:
            if domain_mode == "kind":
                key, label, definition, origin = kind, *KIND_DOMAINS[kind], None
            else:
                key = element.rsplit(".", 1)[0]
                if key not in model:
                    f, row = seen_elements[element][1:]
                    raise LoadError(f"the parent {key!r} of element {element!r} is not in "
                                    "content_model_reference.csv", file=f, row=row, column="element_id")
                row, label, definition = model[key]
                origin = (cm_file, row)
                if key.count(".") >= 2 and key.rsplit(".", 1)[0] in model:
                    label = f"{model[key.rsplit('.', 1)[0]][1]}: {label}"
            if key not in domains:
                node = domains[key] = add_concept(g, ids.concept(fw, key), scheme, notation=key, domain=True,
                                                  label=label, definition=definition)
                if origin:
                    delta.origin[node] = origin
            return domains[key]

        parents = {e.rsplit(".", 1)[0] for e in seen_elements} if domain_mode == "content_model" else set()
        for e in sorted(parents & seen_elements.keys()):
            raise LoadError(f"element {e!r} is both rated and the parent of rated elements",
                            file=seen_elements[e][1], row=seen_elements[e][2], column="element_id")
        for element, (kind, _f, _row) in sorted(seen_elements.items(), key=lambda kv: _natural(kv[0])):
            row, label, definition = model[element]
            node = add_concept(g, ids.concept(fw, element), scheme, notation=element,
                               broader=domain_of(element, kind), label=label, definition=definition)
            delta.origin[node] = (cm_file, row)
        delta.summary["domains"] = len(domains)
        delta.summary["competencies"] = len(seen_elements)

        # Roles graph.
        rg = delta.graph(ids.graph("roles", set_id))
        roles: dict[str, tuple[URIRef, str]] = {}
        for code, title, desc in zip(occ["onet_soc_code"], occ["title"], occ["description"]):
            if keep is not None and code not in keep:
                continue
            row = occ_row[code]
            if not title:
                raise LoadError("title is empty", file=fname["occupations"], row=row, column="title")
            role_id = f"{set_id}-{code}"
            role = add_role(rg, ids, role_id, title, TRACKS["clinical"], desc)
            roles[code] = (role, role_id)
            rg.add((role, SCHEMA.occupationalCategory, Literal(code)))
            zone = zones.get(code, "")
            if zone:
                text = f"O*NET Job Zone {zone}" + (f": {JOB_ZONES[zone]}" if zone in JOB_ZONES else "")
                rg.add((role, SCHEMA.educationRequirements, Literal(text, lang="en")))
            delta.origin[role] = (fname["occupations"], row)

        counts = {"essential": 0, "optional": 0}
        with_reqs = set()
        lv_lo, lv_hi = bounds["LV"]
        for _kind, f, df in ratings:
            for code, element, im_text, im, lv, idx in zip(df["onet_soc_code"], df["element_id"],
                                                           df["importance_im"], df["_im"], df["_lv"], df.index):
                role, role_id = roles[code]
                essential = im >= ess_im
                req = add_requirement(rg, ids, role_id, fw, element, ids.concept(fw, element),
                                      lv_to_level(lv, lv_lo, lv_hi), "essential" if essential else "optional",
                                      float(im_text))
                delta.origin[req] = (f, int(idx) + 2)
                counts["essential" if essential else "optional"] += 1
                with_reqs.add(code)
        delta.summary.update(roles=len(roles), roles_without_ratings=len(roles) - len(with_reqs),
                             requirements=counts["essential"] + counts["optional"],
                             essential=counts["essential"], optional=counts["optional"])
        return delta

    @staticmethod
    def _suppressed(folder: Path) -> dict[str, set[str]]:
        """(SOC code, element) pairs whose IM or LV estimate O*NET recommends suppressing, per kind."""
        out = {}
        for kind, fname in LONG_FILES.items():
            df = folder_table(folder, fname, LONG_COLUMNS, optional_file=True)
            if df is None:
                continue
            sup = df[df["recommend_suppress"].str.upper().eq("Y") & df["scale_id"].isin(["IM", "LV"])]
            out[kind] = set(sup["onet_soc_code"] + "\t" + sup["element_id"])
        return out


def _natural(element_id: str):
    return [int(p) if p.isdigit() else p for p in element_id.split(".")]
