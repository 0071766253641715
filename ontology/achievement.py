"""How a cohort achieves each competency: results of the assessments that assess it."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from rdflib import Literal

from .errors import NotFound
from .gaps import assessing_rows
from .store import Store


@dataclass(frozen=True)
class AssessmentOutcome:
    assessment_id: str
    title: str
    learners: int  # distinct learners who sat it in the cohort
    pass_rate: float
    mean_score: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CompetencyAchievement:
    competency: str
    notation: str
    label: str
    cohort: str
    learners: int  # distinct learners (a learner sitting two of its assessments counts once)
    pass_rate: float  # over results (each sitting counts)
    mean_score: float
    assessments: tuple[AssessmentOutcome, ...]
    results: int = 0  # results counted for pass rate and mean

    def to_dict(self) -> dict:
        return asdict(self)


#: groups (learners of one assessment in one cohort) smaller than this are never reported
MIN_GROUP_SIZE = 5


@dataclass(frozen=True)
class Achievement:
    program: str
    framework: str
    cohorts: tuple[str, ...]
    competencies: tuple[CompetencyAchievement, ...]
    #: competencies assessed, but with no results for a cohort: nothing known about how it does
    no_results: tuple[str, ...]
    #: the smallest group reported; smaller ones are suppressed
    min_group: int = MIN_GROUP_SIZE
    #: (competency notation, cohort) whose results all came from groups under ``min_group``
    suppressed: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict:
        return {"program": self.program, "framework": self.framework, "cohorts": list(self.cohorts),
                "no_results": list(self.no_results), "min_group": self.min_group,
                "suppressed": [{"competency": n, "cohort": c} for n, c in self.suppressed],
                "competencies": [c.to_dict() for c in self.competencies]}


def cohort_achievement(store: Store, ids, program: str, framework: str, cohort: str | None = None, *,
                       min_group: int = MIN_GROUP_SIZE) -> Achievement:
    """Pass rate and mean score per competency and cohort, weighted by results; ``learners`` counts
    distinct learners (``results`` the sittings).

    Small-cell suppression: an assessment's results in a cohort count only when at least
    ``min_group`` learners sat it (else one learner's score could be read off the mean); they are
    left out of the competency's figures too, so no difference of two reported figures reveals
    them.  A competency whose every group is too small is listed in ``suppressed``."""
    min_group = max(1, int(min_group))
    pid = ids.program(program)
    comps = {r["comp"]: r for r in store.select("framework_competencies", fw=Literal(framework))}
    if not comps:
        raise NotFound(f"framework {framework!r} is not loaded", field="framework")
    results = [r for r in store.select("cohort_results", program=pid) if cohort is None or r["cohort"] == cohort]
    learners_of = defaultdict(set)  # (assessment, cohort) -> learner ids
    for r in store.select("cohort_learners", program=pid):
        if cohort is None or r["cohort"] == cohort:
            learners_of[(r["assessment"], r["cohort"])].add(r["learner"])
    if cohort is not None and not results:
        raise NotFound(f"no results for cohort {cohort!r} in program {program!r}", field="cohort")
    by_assessment = defaultdict(list)
    for r in results:
        by_assessment[r["assessment"]].append(r)
    assessing = defaultdict(set)
    for r in assessing_rows(store, pid):
        if r["comp"] in comps:
            assessing[r["comp"]].add(r["assessment"])
    out, no_results, suppressed = [], set(), []
    cohorts = sorted({r["cohort"] for r in results})
    for comp, assessments in sorted(assessing.items(), key=lambda kv: comps[kv[0]]["notation"]):
        for c in cohorts:
            rows = [r for a in sorted(assessments) for r in by_assessment.get(a, []) if r["cohort"] == c]
            if not rows:
                no_results.add(comps[comp]["notation"])
                continue
            rows = [r for r in rows if int(r["learners"]) >= min_group]
            if not rows:
                suppressed.append((comps[comp]["notation"], c))
                continue
            n = sum(int(r["results"]) for r in rows)
            passes = sum(int(r["passes"]) for r in rows)
            mean = sum(float(r["mean"]) * int(r["results"]) for r in rows) / n
            learners = set().union(*(learners_of[(r["assessment"], c)] for r in rows))
            out.append(CompetencyAchievement(
                competency=comp, notation=comps[comp]["notation"], label=comps[comp]["label"], cohort=c,
                learners=len(learners), pass_rate=round(passes / n, 3), mean_score=round(mean, 3),
                assessments=tuple(AssessmentOutcome(r["aid"], r["title"], int(r["learners"]),
                                                    round(int(r["passes"]) / int(r["results"]), 3),
                                                    round(float(r["mean"]), 3)) for r in rows),
                results=n))
    return Achievement(program=program, framework=framework, cohorts=tuple(cohorts), competencies=tuple(out),
                       no_results=tuple(sorted(no_results)), min_group=min_group, suppressed=tuple(suppressed))
