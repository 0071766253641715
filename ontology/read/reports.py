"""The one path to a gap report (API, web pages, committee exports and CLI alike), and role readiness.

:func:`gap_report` picks the program's framework when none is given, reads through an accepted
crosswalk when ``via`` names the framework the program is aligned to, and serves repeated reports from
the store's report cache while the store has not changed.
"""
from __future__ import annotations

from typing import Any

from ..changes import changes, snapshots
from ..crosswalk import check_framework, gap_report_via
from ..errors import GapmapError
from ..gaps import GapEntry, GapReport, RoleReadiness, cached_gap_report, role_readiness
from ..gaps import gap_report as compute_gap_report
from ..ids import Ids
from ..store import Store
from ..versions import compare_saved, no_changes_yet
from .catalog import Program, program_framework, programs


def gap_report(store: Store, ids: Ids, program: str, framework: str | None = None, *, via: str | None = None,
               year: int | None = None, course: str | None = None, role: str | None = None,
               include_suggestions: float | None = None, stage: str | None = "graduation",
               cached: bool = True) -> GapReport:
    """The gap report of ``program`` against ``framework`` (default: the program's own).

    ``via``: the framework the program is aligned to, when it is not ``framework`` (the report then goes
    through the accepted crosswalk ``via`` → ``framework``).  ``cached=False`` computes afresh.
    """
    framework = framework or program_framework(store, program)
    if via and via != framework:
        check_framework(via, "via")
        report: GapReport = gap_report_via(store, ids, program, framework, via, year=year, course=course, role=role,
                                           include_suggestions=include_suggestions, stage=stage)
        return report
    compute = cached_gap_report if cached else compute_gap_report
    return compute(store, ids, program, framework, year=year, course=course, role=role,
                   include_suggestions=include_suggestions, stage=stage)


def readiness(store: Store, ids: Ids, program: str, role: str, framework: str | None = None, *,
              include_suggestions: float | None = None, stage: str | None = "graduation") -> RoleReadiness:
    """How ready the program's graduates are for ``role``."""
    return role_readiness(store, ids, program, role, framework=framework, include_suggestions=include_suggestions,
                          stage=stage)


def competency_statuses(store: Store, ids: Ids, fw: str, comp: str) -> list[tuple[Program, GapEntry]]:
    """A competency's gap-report entry in every program that uses its framework."""
    out = []
    for p in programs(store):
        if p.fw == fw:
            entry = next((e for e in gap_report(store, ids, p.id, fw).entries if e.competency == comp), None)
            if entry is not None:
                out.append((p, entry))
    return out


def saved_reports(store: Store, ids: Ids, program: str) -> list[dict[str, Any]]:
    """The gap reports saved before each reload that changed the program's report, newest first."""
    program_framework(store, program)  # NotFound for an unknown program
    return snapshots(store, ids, program)


def report_changes(store: Store, ids: Ids, program: str, *, since: str | None = None,
                   until: str | None = None) -> dict[str, Any]:
    """What changed in the program's gap report: since the last reload that changed it (or since the saved
    report ``since``), or between two saved reports (``since`` and ``until``)."""
    program_framework(store, program)  # NotFound for an unknown program
    if until:
        if not since:
            raise ChangesError("until needs since (two saved reports to compare)", field="since")
        rep: dict[str, Any] = compare_saved(store, ids, program, since, until).to_dict()
        rep["until"] = until
        return rep
    if not since and not snapshots(store, ids, program):
        return no_changes_yet(program)
    out: dict[str, Any] = changes(store, ids, program, since=since).to_dict()
    return out


class ChangesError(GapmapError):
    status = 400
    title = "Bad parameter"
