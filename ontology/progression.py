"""Progression: where each competency is introduced, reinforced and brought to the required level.

Committees and accreditors read a curriculum as I → R → M per competency across the years.  From the
accepted alignments (optionally unreviewed suggestions above a precision, as in the gap report) we take,
for every course that teaches a competency, the highest objective target level taught there, and order the
courses by year (then course code).  Each course then gets a stage:

* ``introduced``  the first course that teaches it (also ``mastered`` when it is already at the required level);
* ``mastered``    a course teaching it at or above the required level;
* ``reinforced``  any other later course.

The required level is the role's (``role=``, graduation-stage requirements when stages are given) or,
without a role, ``mastery_level`` (default 3, "Competent").  Flags:

* ``taught_once``                 one course only: never reinforced;
* ``lower_after_higher``          a later year's highest level is below an earlier year's highest level;
* ``mastered_before_introduced``  the required level is reached in a year before the competency is taught
                                  at an introductory (lower) level, or at the first encounter with nothing
                                  lower before it while lower-level teaching follows later;
* ``never_mastered``              taught, but never at the required level.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from .gaps import gap_report
from .store import Store

FLAGS = ("taught_once", "lower_after_higher", "mastered_before_introduced", "never_mastered")


@dataclass(frozen=True)
class Step:
    course: str
    year: int
    level: int | None
    objectives: tuple[str, ...]
    stages: tuple[str, ...]  # "introduced", "reinforced", "mastered"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Progression:
    competency: str
    notation: str
    label: str
    domain: str | None
    required_level: int | None
    steps: tuple[Step, ...]
    flags: tuple[str, ...]

    @property
    def introduced(self) -> Step | None:
        return self.steps[0] if self.steps else None

    @property
    def mastered(self) -> Step | None:
        return next((s for s in self.steps if "mastered" in s.stages), None)

    @property
    def reinforced(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if "reinforced" in s.stages)

    def to_dict(self) -> dict:
        where = lambda s: {"course": s.course, "year": s.year, "level": s.level} if s else None  # noqa: E731
        return {"competency": self.competency, "notation": self.notation, "label": self.label,
                "domain": self.domain, "required_level": self.required_level,
                "introduced": where(self.introduced), "reinforced": [where(s) for s in self.reinforced],
                "mastered": where(self.mastered), "flags": list(self.flags),
                "steps": [s.to_dict() for s in self.steps]}


@dataclass(frozen=True)
class ProgressionReport:
    program: str
    framework: str
    role: str | None
    mastery_level: int
    entries: tuple[Progression, ...]
    summary: dict

    def flagged(self, flag: str) -> list[str]:
        return sorted(e.notation for e in self.entries if flag in e.flags)

    def to_dict(self) -> dict:
        return {"program": self.program, "framework": self.framework, "role": self.role,
                "mastery_level": self.mastery_level, "summary": self.summary,
                "competencies": [e.to_dict() for e in self.entries]}


def _flags(steps: list[Step], required: int | None) -> tuple[str, ...]:
    out = []
    if len(steps) == 1:
        out.append("taught_once")
    peak_by_year: dict[int, int] = {}
    for s in steps:
        if s.level is not None:
            peak_by_year[s.year] = max(peak_by_year.get(s.year, 0), s.level)
    best = 0
    for y in sorted(peak_by_year):
        if peak_by_year[y] < best:
            out.append("lower_after_higher")
            break
        best = max(best, peak_by_year[y])
    if required is not None:
        levelled = [s for s in steps if s.level is not None]
        at = [s for s in levelled if s.level >= required]
        below = [s for s in levelled if s.level < required]
        if not at:
            out.append("never_mastered")
        elif below:
            first_m, first_b = min(s.year for s in at), min(s.year for s in below)
            first = levelled[0]
            if first_m < first_b or (first.level >= required and first_m == first_b
                                     and any(s.year > first.year for s in below)):
                out.append("mastered_before_introduced")
    return tuple(out)


def progression(store: Store, ids, program: str, framework: str, *, role: str | None = None,
                mastery_level: int = 3, include_suggestions: float | None = None,
                stage: str | None = "graduation") -> ProgressionReport:
    """Introduced / reinforced / mastered per competency of ``framework`` in ``program``."""
    rep = gap_report(store, ids, program, framework, role=role, include_suggestions=include_suggestions,
                     stage=stage)
    entries = []
    for e in rep.entries:
        required = e.required_level if role and e.required_level is not None else (None if role else mastery_level)
        per_course: dict[tuple[int, str], list] = defaultdict(list)
        for t in e.taught_by:
            per_course[(t.year, t.course)].append(t)
        steps = []
        for i, ((year, course), ts) in enumerate(sorted(per_course.items())):
            levels = [t.level for t in ts if t.level is not None]
            level = max(levels) if levels else None
            stages = []
            if i == 0:
                stages.append("introduced")
            mastered = required is not None and level is not None and level >= required
            if mastered:
                stages.append("mastered")
            elif i > 0:
                stages.append("reinforced")
            steps.append(Step(course=course, year=year, level=level,
                              objectives=tuple(sorted({t.objective_id for t in ts})), stages=tuple(stages)))
        entries.append(Progression(competency=e.competency, notation=e.notation, label=e.label, domain=e.domain,
                                   required_level=required, steps=tuple(steps),
                                   flags=_flags(steps, required) if steps else ()))
    taught = [e for e in entries if e.steps]
    summary = {"competencies": len(entries), "taught": len(taught),
               "not_taught": len(entries) - len(taught),
               "mastered": sum(1 for e in taught if e.mastered is not None),
               "flags": {f: sum(f in e.flags for e in entries) for f in FLAGS}}
    return ProgressionReport(program=program, framework=framework, role=role, mastery_level=mastery_level,
                             entries=tuple(entries), summary=summary)

