#!/usr/bin/env python3
"""Generate the synthetic assessment results in results/md-2026.csv.

Deterministic (fixed seed, standard library only): running it again rewrites an
identical file.  The results are invented; no real learner data is involved.

Model: each learner has a latent ability a ~ N(0, 1); for each assessment the
score is  mean + sd * (0.6 * a + 0.8 * e),  e ~ N(0, 1), clipped to [0, 1] and
rounded to three decimals; a learner passes when score >= pass_mark.

Academic year 2025-26: cohort 2026 (graduating, year 4) has results on the
year 1-4 assessments below; cohort 2027 (year 3) only on the year 1-3 ones.
Two assessments are tuned to have notably low pass rates: the prescribing
skills assessment (BMS240-PSA) and the I-PASS handover station (MED260-OSCE1).
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

SEED = 20260
LEARNERS_PER_COHORT = 30
OUT = Path(__file__).resolve().parent / "results" / "md-2026.csv"

# assessment_id: (mean, sd, pass_mark, year of the course)
ASSESSMENTS: dict[str, tuple[float, float, float, int]] = {
    "MED101-OSCE1": (0.80, 0.08, 0.60, 1),
    "BMS130-EXAM": (0.74, 0.09, 0.60, 1),
    "HSS150-EXAM": (0.77, 0.08, 0.60, 1),
    "BMS240-PSA": (0.61, 0.10, 0.65, 2),    # low pass rate: prescribing
    "MED201-OSCE2": (0.78, 0.08, 0.60, 2),
    "RES250-EXAM": (0.72, 0.10, 0.60, 2),
    "MED260-OSCE1": (0.58, 0.11, 0.65, 2),  # low pass rate: handover
    "CLK301-CPE": (0.82, 0.07, 0.65, 3),
    "CLK301-EXAM": (0.73, 0.09, 0.60, 3),
    "IPE360-SIM": (0.79, 0.08, 0.60, 3),
    "SUB401-EPA": (0.84, 0.06, 0.70, 4),
    "CAP490-OSCE1": (0.76, 0.09, 0.65, 4),
}
# years of the programme each cohort has completed by the end of 2025-26
COHORT_YEARS = {"2026": 4, "2027": 3}


def generate() -> list[list[str]]:
    rng = random.Random(SEED)
    rows: list[list[str]] = []
    for cohort, years_done in COHORT_YEARS.items():
        learners = [f"L{cohort[2:]}-{i:03d}" for i in range(1, LEARNERS_PER_COHORT + 1)]
        ability = {lid: rng.gauss(0.0, 1.0) for lid in learners}
        for aid, (mean, sd, pass_mark, year) in ASSESSMENTS.items():
            if year > years_done:
                continue
            for lid in learners:
                raw = mean + sd * (0.6 * ability[lid] + 0.8 * rng.gauss(0.0, 1.0))
                score = round(min(1.0, max(0.0, raw)), 3)
                rows.append([aid, lid, cohort, f"{score:.3f}", "true" if score >= pass_mark else "false"])
    return rows


def main() -> None:
    rows = generate()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["assessment_id", "learner_id", "cohort", "score", "passed"])
        w.writerows(rows)
    print(f"wrote {len(rows)} results to {OUT}")


if __name__ == "__main__":
    main()
