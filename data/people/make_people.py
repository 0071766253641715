#!/usr/bin/env python3
"""Generate the bundled (fictional) people, evidence, milestone ratings and credentials (CC BY 4.0).

Deterministic (seeded): ``python data/people/make_people.py`` rewrites people.csv, evidence.csv,
milestones.csv and credentials.csv beside it from data/roles/roles.csv.  Every person is invented.
"""
from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROLES = HERE.parent / "roles" / "roles.csv"
rng = random.Random(2026)

reqs: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
track_of: dict[str, str] = {}
for r in csv.DictReader(ROLES.open(encoding="utf-8")):
    reqs[r["role_id"]].append((r["competency"], int(r["required_level"]), r["relation"]))
    track_of[r["role_id"]] = r["track"]

FIRST = ["Maya", "Daniel", "Priya", "Samuel", "Lena", "Tomas", "Aisha", "Jonah", "Mei", "Carlos", "Ingrid", "Kwame",
         "Sofia", "Ravi", "Hannah", "Omar", "Yuki", "Elena", "Felix", "Grace", "Ibrahim", "Julia", "Kofi", "Lucia",
         "Marcus", "Nadia", "Oscar", "Paula", "Quentin", "Rosa", "Stefan", "Tara", "Umar", "Vera", "Wei", "Ximena",
         "Yusuf", "Zoe", "Anders", "Bianca", "Chidi", "Dana", "Emil", "Fatima", "Gabriel", "Helena", "Ivan", "Jasmin",
         "Karim", "Leila", "Mateo", "Nora", "Olu", "Petra", "Rahul", "Sara", "Theo", "Uma", "Victor", "Wanda",
         "Yara", "Zane"]
LAST = ["Okafor", "Lindqvist", "Raman", "Achebe", "Moreau", "Novak", "Haddad", "Brennan", "Tanaka", "Ortega",
        "Berg", "Mensah", "Rossi", "Iyer", "Fischer", "Khalil", "Sato", "Petrova", "Wagner", "Osei", "Farouk",
        "Costa", "Asante", "Romero", "Bauer", "Nasser", "Lund", "Silva", "Dubois", "Reyes", "Kovac", "Shah",
        "Qureshi", "Horvat", "Chen", "Alvarez", "Demir", "Walsh", "Nilsson", "Conti", "Eze", "Park", "Larsen",
        "Yilmaz", "Santos", "Weber", "Popov", "Kaur", "Aziz", "Mansour", "Garcia", "Holm", "Adeyemi", "Kral",
        "Mehta", "Lopez", "Schmidt", "Rao", "Moreno", "Nowak", "Hassan", "Young"]
DEPTS = ["Internal Medicine", "Hospital Medicine", "Emergency Medicine", "Family Medicine", "Geriatrics"]
SITES = ["Riverbend University Hospital", "Northlake Community Hospital"]

# (count, kind, role, past roles, target choices, mentor capacity range)
COHORTS = [
    (4, "learner", "", "", ["intern"], None),
    (8, "resident", "intern", "", ["resident-im"], None),
    (12, "resident", "resident-im", "intern", ["chief-resident", "hospitalist", "attending", "research-fellow",
                                               "clinician-educator"], None),
    (2, "resident", "chief-resident", "intern;resident-im", ["clinician-educator", "attending"], None),
    (3, "fellow", "research-fellow", "intern;resident-im", ["clinician-researcher"], None),
    (12, "clinician", "attending", "intern;resident-im", ["clinician-educator", "clinician-researcher",
                                                         "department-leader", "quality-lead"], None),
    (6, "clinician", "hospitalist", "intern;resident-im", ["quality-lead", "department-leader"], None),
    (4, "nurse", "nurse-practitioner", "", ["quality-lead", "clinician-educator"], None),
    (4, "faculty", "clinician-educator", "intern;resident-im;attending", [], (3, 4)),
    (2, "faculty", "program-director", "resident-im;attending;clinician-educator", [], (3, 4)),
    (2, "faculty", "clinician-researcher", "resident-im;research-fellow", [], (3, 4)),
    (1, "faculty", "quality-lead", "resident-im;hospitalist", [], (2, 3)),
    (2, "faculty", "department-leader", "resident-im;attending;clinician-researcher", [], (1, 2)),
]
OFFERS = {"clinician-educator": "teaching skills, education scholarship, feedback",
          "program-director": "career advice for residents, education leadership",
          "clinician-researcher": "research supervision, grant writing, publishing",
          "quality-lead": "quality improvement projects, patient safety",
          "department-leader": "leadership, career strategy, negotiation",
          "attending": "clinical excellence, career advice",
          "hospitalist": "hospital medicine careers, systems of care"}
TODAY_YEAR = 2026


def date(recent=True):
    y = rng.choice([2025, 2026, 2026]) if recent else rng.choice([2019, 2020, 2021])
    m = rng.randint(1, 11 if y == TODAY_YEAR else 12)
    return f"{y}-{m:02d}-{rng.randint(1, 28):02d}"


people, evidence, milestones, credentials = [], [], [], []
n = 0
learner_ids = iter(["L26-001", "L26-002", "L26-003", "L26-004"])
for count, kind, role, past, targets, cap in COHORTS:
    for k in range(count):
        first, last = FIRST[n], LAST[n]
        n += 1
        pid = next(learner_ids) if kind == "learner" else f"p{n:03d}"
        track = track_of.get(role, "clinical")
        dept = DEPTS[0] if role in ("intern", "resident-im", "chief-resident", "") else rng.choice(DEPTS)
        if role == "hospitalist":
            dept = "Hospital Medicine"
        target = targets[k % len(targets)] if targets else ""
        capacity = rng.randint(*cap) if cap else ""
        # two senior clinicians per site also mentor
        if role in ("attending", "hospitalist") and k < 2:
            capacity = 3
        title = "Dr. " if kind in ("clinician", "faculty", "resident", "fellow") else ""
        people.append({
            "person_id": pid, "name": f"{title}{first} {last}",
            "username": f"{first[0].lower()}.{last.lower()}", "kind": kind, "department": dept,
            "site": SITES[n % 2], "track": track, "roles": role, "past_roles": past, "target_roles": target,
            "remote": rng.choice(["yes", "yes", "no"]), "mentor_capacity": capacity,
            "mentor_offers": OFFERS.get(role, "") if capacity else ""})
        if kind == "learner":
            continue  # learners' evidence comes from their assessment results
        held = {}
        for r in [*past.split(";"), role]:
            for comp, lvl, rel in reqs.get(r, []):
                held[comp] = max(held.get(comp, 0), lvl)
        senior = kind == "faculty"
        for comp, lvl in sorted(held.items()):
            roll = rng.random()
            got = lvl - 1 if roll < 0.22 else (lvl + 1 if roll > (0.7 if senior else 0.9) else lvl)
            got = max(1, min(5, got))
            if kind == "resident" and rng.random() < 0.5:
                for when in ("2025-12-15", "2026-06-15"):
                    rating = max(1.0, got - (0.5 if when.startswith("2025") else 0) - rng.choice([0, 0, 0.5]))
                    milestones.append({"person_id": pid, "competency": comp, "rating": f"{rating:g}", "date": when,
                                       "rater": "Internal Medicine CCC"})
                continue
            source = rng.choice(["supervisor", "supervisor", "peer", "self"])
            evidence.append({"person_id": pid, "competency": comp, "level": got, "source": source,
                             "date": date(recent=rng.random() > 0.15),
                             "detail": {"supervisor": "annual faculty review", "peer": "multi-source feedback",
                                        "self": "self-assessment in annual review"}[source]})
        if rng.random() < 0.35:
            credentials.append({"person_id": pid, "credential": rng.choice(["HANDOVER", "WELLBEING", "SAFETY-CME",
                                                                           "RX-SAFE", "HVC-MC"]),
                                "date": date(), "title": "", "competencies": ""})

# a few hand-picked facts for the README walk-through: the first attending is our demo clinician
demo = next(p for p in people if p["roles"] == "attending")
demo["target_roles"] = "clinician-educator"
credentials.append({"person_id": demo["person_id"], "credential": "ACLS-2024", "date": "2024-03-12",
                    "title": "Advanced cardiac life support (ACLS) provider", "competencies": "PC6.2:4;PC7:4"})


def write(name, rows, cols):
    with (HERE / name).open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


write("people.csv", people, ["person_id", "name", "username", "kind", "department", "site", "track", "roles",
                             "past_roles", "target_roles", "remote", "mentor_capacity", "mentor_offers"])
write("evidence.csv", evidence, ["person_id", "competency", "level", "source", "date", "detail"])
write("milestones.csv", milestones, ["person_id", "competency", "rating", "date", "rater"])
write("credentials.csv", credentials, ["person_id", "credential", "date", "title", "competencies"])
print(len(people), "people,", sum(1 for p in people if p["mentor_capacity"]), "mentors,", len(evidence), "evidence,",
      len(milestones), "milestone ratings,", len(credentials), "credentials; demo:", demo["person_id"], demo["name"])
