"""`gapmap profile | plan | match | pipeline`: the careers computations from the command line (local store)."""
from __future__ import annotations

import click

from .cli_common import echo_json, workspace_for


@click.command()
@click.argument("person")
@click.option("--json", "as_json", is_flag=True, help="the whole profile as JSON")
@click.pass_context
def profile(ctx, person, as_json):
    """A person's competencies: level, sources and freshness of the evidence."""
    from ontology.careers import profile as compute
    ws = workspace_for(ctx)
    p = compute(ws.store, ws.ids, person)
    if as_json:
        return echo_json(p.to_dict())
    click.echo(f"{p.person.name} ({p.person.id}): {', '.join(p.person.roles) or p.person.kind}; "
               f"goals: {', '.join(p.person.target_roles) or '-'}")
    for h in p.competencies:
        sources = ", ".join(sorted({e.source for e in h.evidence}))
        click.echo(f"  {h.notation:<7} {h.level}  {'fresh' if h.fresh else 'STALE'}  {h.latest or '':<10}  {sources}")


@click.command()
@click.argument("person")
@click.argument("role")
@click.option("--objective", type=click.Choice(["hours", "cost"]), default="hours", show_default=True)
@click.option("--essential-only", is_flag=True, help="leave optional requirements out")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def plan(ctx, person, role, objective, essential_only, as_json):
    """The pathway to ROLE and the development plan closing PERSON's gap at the least hours (or cost)."""
    from ontology.careers import development_plan, role_gap
    ws = workspace_for(ctx)
    gap = role_gap(ws.store, ws.ids, person, role)
    pl = development_plan(ws.store, ws.ids, person, role, objective=objective, include_optional=not essential_only,
                          gap=gap)
    if as_json:
        return echo_json({"gap": gap.to_dict(), "plan": pl.to_dict()})
    click.echo(" → ".join(gap.path) + "   (" + ", ".join(s.kind for s in gap.steps) + ")")
    for it in pl.items:
        o = it.opportunity
        click.echo(f"  {o.id:<14} {o.hours:>6g} h {o.cost:>8g}  closes {', '.join(it.closes)}")
    click.echo(f"  total {pl.total_hours:g} h, cost {pl.total_cost:g}"
               + (f" (greedy {pl.greedy['total_hours']:g} h, {pl.greedy['total_cost']:g})" if pl.greedy else ""))
    if pl.open_gaps:
        click.echo("  nothing in the catalogue closes: " + ", ".join(g.notation for g in pl.open_gaps))


@click.command()
@click.option("--mode", type=click.Choice(["best", "full"]), default="best", show_default=True)
@click.option("--department", type=click.Choice(["same", "different"]))
@click.option("--conflict", "conflicts", multiple=True, metavar="A:B", help="a pair never to match")
@click.option("--require-track", is_flag=True, help="the mentor must have walked the target track")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def match(ctx, mode, department, conflicts, require_track, as_json):
    """Match mentees to mentors over the whole pool."""
    from ontology.mentoring import MatchConfig, match_mentors
    pairs = set()
    for c in conflicts:
        a, _, b = c.partition(":")
        if not a or not b:
            raise click.BadParameter(f"{c!r} is not A:B", param_hint="--conflict")
        pairs.add(frozenset((a, b)))
    ws = workspace_for(ctx)
    res = match_mentors(ws.store, ws.ids, mode=mode, cfg=MatchConfig(department=department, conflicts=frozenset(pairs),
                                                                     require_track=require_track))
    if as_json:
        return echo_json(res.to_dict())
    for m in res.matches:
        click.echo(f"  {m.mentee:<8} → {m.mentor:<8} {m.score:.2f}  {m.explain()}")
    s = res.summary
    click.echo(f"matched {s['matched']} of {s['mentees']} ({s['participation_pct']}%), {s['capacity']} places, "
               f"mean coverage {s['mean_coverage_pct']}%")


@click.command()
@click.option("--demand", help="demand set id (default: all)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def pipeline(ctx, demand, as_json):
    """The workforce pipeline: demanded roles against partner programs' readiness."""
    from ontology.pipeline import pipeline_report
    ws = workspace_for(ctx)
    rep = pipeline_report(ws.store, ws.ids, demand)
    if as_json:
        return echo_json(rep.to_dict())
    for r in rep.roles:
        unc = [q.notation for q in r.requirements if q.uncovered]
        click.echo(f"{r.role:<20} {r.headcount:>4} needed  ready: "
                   + ", ".join(f"{p} {v}%" for p, v in r.readiness.items())
                   + (f"  no partner covers: {', '.join(unc)}" if unc else ""))


COMMANDS = (profile, plan, match, pipeline)
