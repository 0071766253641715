#!/usr/bin/env python3
"""Check the bundled Gapmap dataset: formats, referential integrity, counts and planted gaps.

Usage:  python data/check_data.py        (exit status 0 when every check passes)

Only the standard library and pandas are used.  The planted-gap sets are recomputed
from curator alignments in the CSVs (the `competencies` column of the curriculum and
of the assessments, plus the `objectives` column of the assessments) and compared with
planted_gaps.json.  Domains are excluded; sub-competencies count as competencies in
their own right (an objective aligned to PC1 does not teach PC1.1, nor the reverse).
"""
from __future__ import annotations

import csv
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ID_RE = re.compile(r"^[A-Za-z0-9._-]+$")
LOADERS = {"framework-csv", "curriculum-csv", "assessments-csv", "results-csv", "roles-csv"}
#: the careers data (people/, catalogue/, workforce/) loads after the curriculum and roles it refers to
CAREERS_LOADERS = ["people-csv", "catalogue-csv", "badges-ob3", "evidence-csv", "milestones-csv", "credentials-csv",
                   "demand-csv"]
LOADERS |= set(CAREERS_LOADERS)
KINDS = {"written_exam", "osce_station", "portfolio", "workplace_based"}
TRACKS = {"clinical", "research", "teaching", "leadership"}
LEVEL_LABELS = {1: "Novice", 2: "Advanced beginner", 3: "Competent", 4: "Proficient", 5: "Expert"}

failures: list[str] = []


def check(cond: bool, msg: str) -> None:
    if not cond:
        failures.append(msg)


def read(rel: str, columns: list[str]) -> pd.DataFrame:
    path = HERE / rel
    # every cell as text, empty cells as "" (so ids such as "1" or "PC1.1" stay strings)
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    check(list(df.columns) == columns, f"{rel}: header {list(df.columns)} != {columns}")
    with path.open(encoding="utf-8-sig", newline="") as f:   # every row has the header's width
        for n, row in enumerate(csv.reader(f), start=1):
            check(len(row) == len(columns), f"{rel}: row {n} has {len(row)} fields")
    for col in columns:
        bad = df[col] != df[col].str.strip()
        check(not bad.any(), f"{rel}: column {col} has cells with surrounding whitespace")
    return df


def split(cell: str, sep: str = ";") -> list[str]:
    return [x.strip() for x in cell.split(sep) if x.strip()]


def as_int(value: str, lo: int, hi: int, where: str) -> int | None:
    try:
        v = int(value)
    except ValueError:
        failures.append(f"{where}: {value!r} is not an integer")
        return None
    check(lo <= v <= hi, f"{where}: {v} not in {lo}..{hi}")
    return v


# ------------------------------------------------------------------ manifest
manifest = json.loads((HERE / "manifest.json").read_text())
check([m["loader"] for m in manifest][:5] == ["framework-csv", "curriculum-csv", "assessments-csv", "results-csv",
                                              "roles-csv"], "manifest: unexpected loaders or load order")
check([m["loader"] for m in manifest][5:] == CAREERS_LOADERS, "manifest: unexpected careers loaders or load order")
for m in manifest:
    check(m["loader"] in LOADERS, f"manifest: unknown loader {m['loader']}")
    check((HERE / m["path"]).is_file(), f"manifest: missing file {m['path']}")
fw_opts = manifest[0]["options"]
check(fw_opts == {"id": "hpc", "title": "Gapmap Health Professions Competency Framework", "version": "2026.1"},
      f"manifest: framework options {fw_opts}")
for m in manifest[1:3]:
    check(m["options"].get("framework") == "hpc", f"manifest: {m['path']} must use framework hpc")
check(manifest[3]["options"].get("program") == "md", "manifest: results must name program md")
check(manifest[4]["options"] == {"id": "pathways", "framework": "hpc"}, "manifest: roles options")

# ------------------------------------------------------------------ framework
FW = "framework/hpc.csv"
fw = read(FW, ["id", "type", "parent_id", "label", "description", "alt_labels", "level"])
check(fw["id"].is_unique, f"{FW}: duplicate ids {fw.loc[fw['id'].duplicated(), 'id'].tolist()}")
check(set(fw["type"]) <= {"domain", "competency", "subcompetency", "level", "milestone"}, f"{FW}: bad type")
for col in ("id", "label", "description"):
    check((fw[col] != "").all(), f"{FW}: empty {col}")
check(all(ID_RE.match(i) for i in fw["id"]), f"{FW}: id with illegal characters")
types = dict(zip(fw["id"], fw["type"]))
domains = fw[fw["type"] == "domain"]
comps = fw[fw["type"] == "competency"]
subs = fw[fw["type"] == "subcompetency"]
levels = fw[fw["type"] == "level"]
miles = fw[fw["type"] == "milestone"]
check(7 <= len(domains) <= 8, f"{FW}: {len(domains)} domains")
check(45 <= len(comps) <= 55, f"{FW}: {len(comps)} competencies")
check(6 <= len(subs) <= 10, f"{FW}: {len(subs)} sub-competencies")
check((domains["parent_id"] == "").all(), f"{FW}: domain with parent")
for _, r in comps.iterrows():
    check(types.get(r["parent_id"]) == "domain", f"{FW}: competency {r['id']} parent {r['parent_id']!r} is not a domain")
    check(re.fullmatch(rf"{r['parent_id']}\d+", r["id"]) is not None, f"{FW}: competency id {r['id']} not under {r['parent_id']}")
for _, r in subs.iterrows():
    check(types.get(r["parent_id"]) == "competency", f"{FW}: sub-competency {r['id']} parent is not a competency")
    check(re.fullmatch(rf"{re.escape(r['parent_id'])}\.\d+", r["id"]) is not None, f"{FW}: sub id {r['id']}")
for _, r in fw.iterrows():
    if r["type"] in ("domain", "competency", "subcompetency"):
        alts = split(r["alt_labels"], "|")
        check(len(alts) <= 3, f"{FW}: {r['id']} has more than 3 alt labels")
        check(r["level"] == "", f"{FW}: {r['id']} should not have a level")
    else:
        check(r["alt_labels"] == "", f"{FW}: {r['type']} {r['id']} should not have alt labels")
check(sorted(levels["id"]) == ["1", "2", "3", "4", "5"], f"{FW}: level rows {levels['id'].tolist()}")
check(dict(zip(levels["id"].astype(int), levels["label"])) == LEVEL_LABELS, f"{FW}: level labels")
check((levels["parent_id"] == "").all(), f"{FW}: level rows must not have a parent")
mile_pairs = set()
for _, r in miles.iterrows():
    check(types.get(r["parent_id"]) in ("competency", "subcompetency"), f"{FW}: milestone {r['id']} parent")
    lv = as_int(r["level"], 1, 5, f"{FW}: milestone {r['id']} level")
    check((r["parent_id"], lv) not in mile_pairs, f"{FW}: two milestones for {r['parent_id']} level {lv}")
    mile_pairs.add((r["parent_id"], lv))
mile_comps = {c for c, _ in mile_pairs}
check(len(mile_comps) >= 10, f"{FW}: milestones for only {len(mile_comps)} competencies")
check(all(sum(1 for c, _ in mile_pairs if c == m) >= 3 for m in mile_comps), f"{FW}: a competency with < 3 milestones")
COMPETENCY_IDS = set(comps["id"]) | set(subs["id"])

# ------------------------------------------------------------------ curriculum
CU = "curriculum/md.csv"
cu = read(CU, ["program_id", "program_title", "year", "course_code", "course_title", "session_id", "session_title",
               "objective_id", "objective_text", "level", "competencies"])
check(set(cu["program_id"]) == {"md"} and set(cu["program_title"]) == {"Doctor of Medicine (MD)"}, f"{CU}: program")
check(cu["objective_id"].is_unique, f"{CU}: duplicate objective ids")
check(cu["objective_text"].is_unique, f"{CU}: duplicate objective texts")
check(all(ID_RE.match(i) for i in cu["objective_id"]), f"{CU}: objective id with illegal characters")
check((cu["objective_text"].str.len() >= 40).all(), f"{CU}: suspiciously short objective")
for col in ("course_code", "course_title", "objective_id", "objective_text", "year", "level"):
    check((cu[col] != "").all(), f"{CU}: empty {col}")
courses = {}
for _, r in cu.iterrows():
    key = r["course_code"]
    val = (r["course_title"], r["year"])
    check(courses.setdefault(key, val) == val, f"{CU}: course {key} has inconsistent title/year")
    check((r["session_id"] == "") == (r["session_title"] == ""), f"{CU}: {r['objective_id']} session id/title")
sessions = cu[cu["session_id"] != ""].groupby(["course_code", "session_id"])["session_title"].nunique()
check((sessions == 1).all(), f"{CU}: a session with several titles")
years = {c: as_int(y, 1, 8, f"{CU}: course {c} year") for c, (_, y) in courses.items()}
check(set(years.values()) == {1, 2, 3, 4}, f"{CU}: courses do not span years 1-4")
check(len(courses) >= 22, f"{CU}: only {len(courses)} courses")
check(len(cu) >= 320, f"{CU}: only {len(cu)} objectives")
check(cu.groupby("course_code")["session_id"].apply(lambda s: (s != "").any()).sum() >= len(courses) // 2,
      f"{CU}: fewer than half the courses have sessions")
BAND = {1: (1, 2), 2: (2, 3), 3: (2, 3), 4: (3, 4)}
obj_level: dict[str, int] = {}
obj_comps: dict[str, list[str]] = {}
obj_course: dict[str, str] = {}
off_band = 0
for _, r in cu.iterrows():
    oid = r["objective_id"]
    lv = as_int(r["level"], 1, 5, f"{CU}: {oid} level")
    obj_level[oid] = lv
    obj_course[oid] = r["course_code"]
    ids = split(r["competencies"])
    obj_comps[oid] = ids
    check(len(ids) <= 2, f"{CU}: {oid} has more than two curator alignments")
    check(len(set(ids)) == len(ids), f"{CU}: {oid} repeats a competency")
    for c in ids:
        check(c in COMPETENCY_IDS, f"{CU}: {oid} refers to unknown competency {c}")
    lo, hi = BAND[int(r["year"])]
    if lv is not None and not lo - 1 <= lv <= hi:
        failures.append(f"{CU}: {oid} level {lv} far outside the year {r['year']} band {lo}-{hi}")
    if lv is not None and not lo <= lv <= hi:
        off_band += 1
check(off_band <= len(cu) * 0.05, f"{CU}: {off_band} objectives outside their year's level band")
aligned_share = sum(1 for v in obj_comps.values() if v) / len(obj_comps)
check(0.75 <= aligned_share <= 0.85, f"{CU}: {aligned_share:.0%} of objectives aligned (want about 80%)")

# ------------------------------------------------------------------ assessments
AS = "assessments/md.csv"
asm = read(AS, ["assessment_id", "program_id", "course_code", "kind", "title", "competencies", "objectives", "level"])
check(asm["assessment_id"].is_unique, f"{AS}: duplicate assessment ids")
check(all(ID_RE.match(i) for i in asm["assessment_id"]), f"{AS}: id with illegal characters")
check(len(asm) >= 40, f"{AS}: only {len(asm)} assessments")
check(set(asm["kind"]) == KINDS, f"{AS}: kinds {set(asm['kind'])}")
check(len(set(asm["course_code"])) >= 20, f"{AS}: assessments cover only {len(set(asm['course_code']))} courses")
asm_level: dict[str, int] = {}
asm_comps: dict[str, list[str]] = {}
asm_objs: dict[str, list[str]] = {}
for _, r in asm.iterrows():
    aid = r["assessment_id"]
    check(r["program_id"] == "md", f"{AS}: {aid} program {r['program_id']}")
    check(r["course_code"] in courses, f"{AS}: {aid} unknown course {r['course_code']}")
    check(r["title"] != "", f"{AS}: {aid} has no title")
    asm_level[aid] = as_int(r["level"], 1, 5, f"{AS}: {aid} level")
    asm_comps[aid] = split(r["competencies"])
    asm_objs[aid] = split(r["objectives"])
    check(bool(asm_comps[aid]), f"{AS}: {aid} assesses no competency")
    for c in asm_comps[aid]:
        check(c in COMPETENCY_IDS, f"{AS}: {aid} unknown competency {c}")
    for o in asm_objs[aid]:
        check(o in obj_level, f"{AS}: {aid} unknown objective {o}")
        check(obj_course.get(o) == r["course_code"], f"{AS}: {aid} lists objective {o} of another course")

# ------------------------------------------------------------------ results
RE_ = "results/md-2026.csv"
res = read(RE_, ["assessment_id", "learner_id", "cohort", "score", "passed"])
check(set(res["assessment_id"]) <= set(asm_level), f"{RE_}: unknown assessment ids")
check(not res.duplicated(["assessment_id", "learner_id"]).any(), f"{RE_}: duplicate (assessment, learner)")
check(set(res["passed"]) <= {"true", "false"}, f"{RE_}: passed must be true/false")
check(set(res["cohort"]) == {"2026", "2027"}, f"{RE_}: cohorts {set(res['cohort'])}")
scores = pd.to_numeric(res["score"], errors="coerce")
check(scores.notna().all() and scores.between(0, 1).all(), f"{RE_}: scores outside 0..1")
check(res.groupby("learner_id")["cohort"].nunique().max() == 1, f"{RE_}: learner in two cohorts")
n_learners = res.groupby("cohort")["learner_id"].nunique()
check(n_learners.between(25, 35).all(), f"{RE_}: learners per cohort {n_learners.to_dict()}")
check(10 <= res["assessment_id"].nunique() <= 14, f"{RE_}: {res['assessment_id'].nunique()} assessments")
pass_rate = (res["passed"] == "true").groupby(res["assessment_id"]).mean()
low = sorted(pass_rate[pass_rate < 0.6].index)
check(len(low) == 2, f"{RE_}: assessments with pass rate < 60%: {low}")
check((pass_rate.drop(low) >= 0.8).all(), f"{RE_}: unexpected mediocre pass rates {pass_rate.to_dict()}")
sys.dont_write_bytecode = True  # keep data/ free of __pycache__
sys.path.insert(0, str(HERE))
import make_results  # noqa: E402  (regenerate in memory; the file on disk is not touched)
check(make_results.generate() == res.values.tolist(), f"{RE_}: differs from make_results.py output (regenerate it)")

# ------------------------------------------------------------------ roles
RO = "roles/roles.csv"
ro = read(RO, ["role_id", "title", "track", "description", "next_roles", "competency", "required_level", "relation",
               "stage"])
STAGES = {"graduation", "end_of_residency", "post_training"}
check(set(ro["stage"]) <= STAGES, f"{RO}: stages {set(ro['stage']) - STAGES}")
# every role: one final stage (its own level) plus, unless that is graduation, the graduation-stage levels of
# the same competencies, never above the final level (what an MD graduate heading there should have)
grad_rows = ro[ro["stage"] == "graduation"]
final_rows = ro[(ro["stage"] != "graduation") | ro["role_id"].isin(
    [r for r, g in ro.groupby("role_id") if set(g["stage"]) == {"graduation"}])]
for rid, g in ro.groupby("role_id"):
    stages = set(g["stage"])
    check(len(stages - {"graduation"}) <= 1, f"{RO}: role {rid} has several final stages {stages}")
    if stages != {"graduation"}:
        fin = {r.competency: int(r.required_level) for r in g[g["stage"] != "graduation"].itertuples()}
        grd = {r.competency: int(r.required_level) for r in g[g["stage"] == "graduation"].itertuples()}
        check(set(grd) == set(fin), f"{RO}: role {rid} graduation rows differ from its final rows")
        check(all(grd[c] <= fin[c] for c in grd), f"{RO}: role {rid} expects more at graduation than at the end")
ro = final_rows
role_ids = set(ro["role_id"])
check(len(role_ids) >= 9, f"{RO}: only {len(role_ids)} roles")
check(all(ID_RE.match(i) for i in role_ids), f"{RO}: role id with illegal characters")
check(not ro.duplicated(["role_id", "competency"]).any(), f"{RO}: duplicate requirement")
check(not grad_rows.duplicated(["role_id", "competency"]).any(), f"{RO}: duplicate graduation requirement")
check(set(ro["relation"]) == {"essential", "optional"}, f"{RO}: relations {set(ro['relation'])}")
check(set(ro["track"]) == TRACKS, f"{RO}: tracks {set(ro['track'])}")
role_req: dict[str, dict[str, int]] = defaultdict(dict)
next_roles: dict[str, set[str]] = {}
for rid, g in ro.groupby("role_id"):
    for col in ("title", "track", "description", "next_roles"):
        check(g[col].nunique() == 1, f"{RO}: role {rid} has inconsistent {col}")
    check(8 <= len(g) <= 15, f"{RO}: role {rid} has {len(g)} requirements")
    nxt = set(split(g["next_roles"].iloc[0]))
    next_roles[rid] = nxt
    check(nxt <= role_ids and rid not in nxt, f"{RO}: role {rid} next_roles {nxt - role_ids}")
    for _, r in g.iterrows():
        check(r["competency"] in COMPETENCY_IDS, f"{RO}: {rid} unknown competency {r['competency']}")
        role_req[rid][r["competency"]] = as_int(r["required_level"], 1, 5, f"{RO}: {rid} {r['competency']}")
# every role is reachable from the intern role, and pathways are acyclic
seen, stack = set(), ["intern"]
while stack:
    rid = stack.pop()
    if rid not in seen:
        seen.add(rid)
        stack.extend(next_roles.get(rid, ()))
check(seen == role_ids - {"nurse-practitioner"}, f"{RO}: roles not reachable from intern: {role_ids - seen}")
def _cyclic(rid: str, path: tuple[str, ...]) -> bool:
    return rid in path or any(_cyclic(n, path + (rid,)) for n in next_roles.get(rid, ()))
check(not any(_cyclic(r, ()) for r in role_ids), f"{RO}: next_roles contain a cycle")

# ------------------------------------------------------------------ planted gaps
taught: dict[str, int] = {}           # competency -> highest objective level
for oid, ids in obj_comps.items():
    for c in ids:
        taught[c] = max(taught.get(c, 0), obj_level[oid])
assessed: dict[str, int] = {}         # competency -> highest assessment level (direct or via objectives)
for aid in asm_level:
    covered = set(asm_comps[aid]) | {c for o in asm_objs[aid] for c in obj_comps.get(o, [])}
    for c in covered:
        assessed[c] = max(assessed.get(c, 0), asm_level[aid])

planted = json.loads((HERE / "planted_gaps.json").read_text())
check(planted.get("framework") == "hpc" and planted.get("program") == "md", "planted_gaps.json: framework/program")
got = {
    "not_taught": sorted(COMPETENCY_IDS - set(taught) - set(assessed)),
    "taught_not_assessed": sorted(set(taught) - set(assessed)),
    "assessed_not_taught": sorted(set(assessed) - set(taught)),
}
for key, value in got.items():
    check(value == sorted(planted[key]), f"planted {key}: computed {value} != declared {sorted(planted[key])}")
check(len(got["not_taught"]) == 3 and len(got["taught_not_assessed"]) == 4 and len(got["assessed_not_taught"]) == 2,
      "planted: wrong number of gaps")
both = COMPETENCY_IDS & set(taught) & set(assessed)
check(len(both) == len(COMPETENCY_IDS) - 9, "planted: every other competency must be taught and assessed")

blr = planted["below_required_level"]
role = blr["role"]
check(role in role_req, f"planted: unknown role {role}")
req = role_req.get(role, {})
check(set(req) <= both, f"planted: role {role} requires competencies that are not taught and assessed: "
                        f"{sorted(set(req) - both)}")
below_strict = sorted(c for c in req if c in both and (taught[c] < req[c] or assessed[c] < req[c]))
below_max = sorted(c for c in req if c in both and max(taught[c], assessed[c]) < req[c])
check(below_strict == below_max == sorted(blr["competencies"]),
      f"planted below_required_level: computed {below_strict} / {below_max} != {sorted(blr['competencies'])}")
for c in blr["competencies"]:
    check(taught.get(c) == 2 and assessed.get(c) == 2 and req.get(c) == 4,
          f"planted: {c} taught at {taught.get(c)}, assessed at {assessed.get(c)}, required {req.get(c)}")

# ------------------------------------------------------------------ report
print(f"framework: {len(domains)} domains, {len(comps)} competencies, {len(subs)} sub-competencies, "
      f"{len(levels)} levels, {len(miles)} milestones for {len(mile_comps)} competencies")
print(f"curriculum: {len(courses)} courses, {cu['session_id'].ne('').groupby(cu['course_code']).any().sum()} with sessions, "
      f"{len(cu)} objectives, {aligned_share:.0%} curator-aligned")
print(f"assessments: {len(asm)} ({', '.join(f'{k} {v}' for k, v in asm['kind'].value_counts().items())})")
print(f"results: {len(res)} rows, {res['learner_id'].nunique()} learners, {res['assessment_id'].nunique()} assessments; "
      f"low pass rates: {', '.join(f'{a} {pass_rate[a]:.0%}' for a in low)}")
print(f"roles: {len(role_ids)} roles, {len(ro)} requirements (final stage), {len(grad_rows)} at graduation")
print(f"planted: {json.dumps(got)}; below level for {role}: {below_strict}")
if failures:
    print(f"\n{len(failures)} check(s) FAILED:")
    for f in failures:
        print("  -", f)
    sys.exit(1)
print("all checks passed")
