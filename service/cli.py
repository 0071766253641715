"""The `gapmap` command: init, load, align, link, report, readiness, check, serve; progression, health,
crosswalk; users, institutions, audit (and, in cli_careers: profile, plan, match, pipeline)."""
from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path

import click

from ontology.errors import GapmapError
from ontology.read import catalog

from .cli_common import echo_json, users_for as _users, workspace_for
from .config import Config

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _audit(ctx, summary: str) -> None:
    """A CLI write in the audit log, by the operating-system user at the console."""
    import getpass
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001
        who = "unknown"
    _users(ctx).audit(user=f"cli:{who}", institution=ctx.obj["institution"], method="CLI",
                      path="gapmap", status=0, summary=summary)


def _first_admin(ctx) -> None:
    """Create the first admin when there is none, printing its one-time password and API token once."""
    from .users import ensure_first_admin
    made = ensure_first_admin(_users(ctx))
    if made is not None:
        _audit(ctx, "created the first admin 'admin'")
        click.echo("")
        click.echo("First admin created (shown only now; change the password at first sign-in):")
        click.echo("  user name:          admin")
        click.echo(f"  one-time password:  {made.password}")
        click.echo(f"  API token:          {made.token}")
        click.echo("")


class GapmapGroup(click.Group):
    """Turns a GapmapError into a one-line message and its exit code (as click does for its own errors)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GapmapError as e:
            click.echo(f"error: {e}", err=True)
            for v in e.details.get("violations", [])[3:20]:
                click.echo(f"  {v}", err=True)
            ctx.exit(e.exit_code)


@click.group(cls=GapmapGroup)
@click.option("--store", envvar="GAPMAP_STORE", help="store folder (default var/store)")
@click.option("--institution", default="default", show_default=True, envvar="GAPMAP_INSTITUTION",
              help="the institution (tenant) whose store the command works on")
@click.pass_context
def main(ctx, store, institution):
    """Gapmap: competency mapping and curriculum gap analysis."""
    from .institutions import check_institution
    try:
        cfg = Config()
        cfg.linking_settings()  # checks the linking variables' values too
    except ValueError as e:  # a bad GAPMAP_* variable: one line naming it, exit 1, no traceback
        raise click.ClickException(str(e)) from None
    if store is not None:
        cfg.STORE_PATH = store
    ctx.ensure_object(dict)
    ctx.obj["config"] = cfg
    try:
        ctx.obj["institution"] = check_institution(institution)
    except GapmapError as e:
        raise click.BadParameter(str(e), param_hint="--institution") from None

    def _close():
        # Release the embedded store's lock now, not at interpreter exit (matters when invoked in-process).
        if ctx.obj.pop("ws", None) is not None:
            gc.collect()
    ctx.call_on_close(_close)


@main.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False), help="folder with manifest.json (default data/)")
@click.option("--align/--no-align", default=True, help="align every program after loading")
@click.pass_context
def init(ctx, data_dir, align):
    """Load the bundled data (data/manifest.json) and align it. Safe to run again: sources are replaced."""
    ws = workspace_for(ctx)
    data = Path(data_dir or ws.config.DATA_DIR)
    t0 = time.perf_counter()
    for r in ws.load_manifest(data / "manifest.json"):
        click.echo(f"loaded {r['path']:<32} {r['triples']:>7} triples in {r['seconds']:.2f}s  {r['summary']}")
    if align:
        for p in catalog.programs(ws.store):
            res = ws.align(p.id)
            click.echo(f"aligned {p.id}: {res.suggestions} suggestions for {res.objectives} objectives "
                       f"in {res.seconds:.1f}s ({res.model_version})")
    click.echo(f"store: {len(ws.store)} triples in {len(ws.store.graph_names())} graphs ({time.perf_counter() - t0:.1f}s)")
    _audit(ctx, f"init from {data / 'manifest.json'}")
    if ctx.obj["institution"] == "default":
        _first_admin(ctx)


@main.command()
@click.argument("loader_or_path", metavar="[LOADER] PATH")
@click.argument("path", required=False, type=click.Path(exists=True))
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE", help="loader option")
@click.pass_context
def load(ctx, loader_or_path, path, options):
    """Load PATH with LOADER (see `gapmap loaders`), replacing that source's graph.  Without LOADER the loader
    is chosen from the file's extension and content (`loaders.detect`)."""
    from loaders import Source, detect
    if path is None:
        path = loader_or_path
        if not Path(path).exists():
            raise click.BadParameter(f"{path!r} does not exist", param_hint="PATH")
        source = Source.from_path(path)
        loader = detect(filename=source.name, data=source.data)
        click.echo(f"loader: {loader}", err=True)
    else:
        loader, source = loader_or_path, Source.from_path(path)
    opts = {}
    for o in options:
        if "=" not in o:
            raise click.BadParameter(f"{o!r} is not KEY=VALUE", param_hint="--option")
        k, v = o.split("=", 1)
        opts[k] = v
    echo_json(workspace_for(ctx).load(loader, source, opts).to_dict())
    _audit(ctx, f"load {loader} {Path(path).name}")


@main.command("loaders")
def list_loaders():
    """List the available loaders, the files they read, and their options."""
    from loaders import available, plugins
    for name, cls in available().items():
        click.echo(f"{name:<18} {cls.description}")
        reads = " ".join(plugins()[name].extensions)
        if reads:
            click.echo(f"{'':<20}reads {reads}")
        for k, v in cls.options.items():
            click.echo(f"{'':<20}-o {k}=…  {v}")


@main.command()
@click.argument("program")
@click.option("--framework", help="default: the program's framework")
@click.option("--top", "top_k", type=int, help="suggestions per objective")
@click.pass_context
@click.option("--progress/--no-progress", default=None, help="progress bar on stderr (default: when a terminal)")
def align(ctx, program, framework, top_k, progress):
    """Suggest competencies for every objective of PROGRAM."""
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        echo_json(workspace_for(ctx).align(program, framework, top_k=top_k).to_dict())
        _audit(ctx, f"align {program}")
        return
    bar = None

    def report(done, total=None, message=""):
        nonlocal bar
        if bar is None and total:
            bar = click.progressbar(length=total, label=f"aligning {program}", file=sys.stderr,
                                    show_pos=True, show_eta=True).__enter__()
        if bar is not None:
            bar.update(done - bar.pos)
    try:
        res = workspace_for(ctx).align(program, framework, top_k=top_k, progress=report)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    echo_json(res.to_dict())
    _audit(ctx, f"align {program}")


def _check_uploader(ctx, name: str, course: str) -> None:
    """--user names a real account of this institution that may upload to ``course`` (the API's rule),
    so the PROV "who" of a CLI upload is never a made-up name."""
    from .auth import COURSE_SCOPED, PERMISSIONS
    inst = ctx.obj["institution"]
    a = _users(ctx).get(name)
    if a is None or a.institution != inst:
        raise click.BadParameter(f"no user {name!r} in institution {inst!r}; create it with "
                                 f"`gapmap user add {name} --role educator --course {course}`", param_hint="--user")
    if a.role not in PERMISSIONS["upload"] or ("upload" in COURSE_SCOPED and a.role == "educator"
                                                and course not in a.courses):
        raise click.BadParameter(f"the {a.role} {name!r} may not upload a syllabus for course {course!r}",
                                 param_hint="--user")


@main.command()
@click.argument("program")
@click.argument("course")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", envvar="GAPMAP_USER", required=True, help="who uploads (recorded with PROV)")
@click.option("--year", type=click.IntRange(1, 8), help="the course's year (1-8), when the course is new")
@click.option("--title", help="the course's title, when the course is new")
@click.option("--align/--no-align", default=True, help="align the extracted objectives at once")
@click.pass_context
def syllabus(ctx, program, course, path, user, year, title, align):
    """Extract learning objectives from a syllabus (PDF, DOCX, HTML, Markdown, text) into COURSE.
    --user must be a user of the institution who may upload to COURSE (recorded with PROV)."""
    _check_uploader(ctx, user, course)
    p = Path(path)
    res = workspace_for(ctx).upload_syllabus(program, course, p.name, p.read_bytes(), user, year=year, title=title,
                                   align=align)
    ex = res["extraction"]
    click.echo(f"{course} syllabus version {res['version']}: {len(ex['objectives'])} objectives from {p.name} "
               f"({ex['format']}{', ' + ex['language'] if ex.get('language') else ''})")
    for o in ex["objectives"]:
        where = f"p.{o['page']}" if o.get("page") else f"¶{o['paragraph']}"
        click.echo(f"  [{o.get('bloom_level') or '-':<10}] {where:>5}  {o['text']}")
    for w in ex.get("warnings", []):
        click.echo(f"  warning: {w}", err=True)
    if "alignment" in res:
        click.echo(f"aligned: {res['alignment']['suggestions']} suggestions")
    _audit(ctx, f"syllabus {program} {course} {p.name} as {user}")


@main.command()
@click.option("--competencies", required=True, type=click.Path(exists=True, dir_okay=False), help="COMP.jsonl")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="QUERIES.jsonl ('-': standard input)")
@click.option("--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="PRED.jsonl ('-': standard output); never an input file")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--profile", default="auto", show_default=True,
              type=click.Choice(["auto", "labels", "curriculum", "descriptions"]),
              help="auto: chosen from the catalogue (descriptions lead when labels carry little meaning)")
def link(competencies, input_path, output, top, profile):
    """Rank competencies for each query line (the linking command contract)."""
    from loaders.linkfiles import link_files
    link_files(competencies, "/dev/stdin" if input_path == "-" else input_path, output, top=top, progress=True,
               profile=profile)


@main.command("review-queue")
@click.argument("program")
@click.option("--course", help="only this course")
@click.option("--year", type=click.IntRange(1, 8), help="only this year's courses")
@click.option("--status", type=click.Choice(["pending", "suggested", "unmapped", "accepted", "rejected", "all"]),
              default="pending", show_default=True, help="which objectives")
@click.option("--min-precision", type=click.FloatRange(0, 1), default=0.0, help="suggestions at or above this")
@click.option("--limit", type=click.IntRange(1), default=200, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_context
def review_queue(ctx, program, course, year, status, min_precision, limit, fmt):
    """The review queue of PROGRAM (the same list, order and filters as the API and the review page)."""
    from ontology.read import review as queue_read
    ws = workspace_for(ctx)
    ws.program_framework(program)  # an unknown program is an error, not an empty queue
    items = queue_read.review_queue(ws.store, ws.ids.program(program), course=course, year=year, status=status,
                                    min_precision=min_precision)
    if fmt == "json":
        return echo_json({"program": program, "count": len(items), "objectives": [o.to_dict() for o in items[:limit]]})
    for o in items[:limit]:
        top = next((a for a in o.alignments if a.status == "suggested"), None)
        best = f"{top.notation} p={top.precision:.2f}" if top and top.precision is not None else "-"
        click.echo(f"{o.course:<10} Y{o.year} {o.objective:<14} {o.pending:>2} pending  {best:<16} {o.text[:60]}")
    click.echo(f"{len(items)} objective(s)" + (f", first {limit} shown" if len(items) > limit else ""))


@main.command()
@click.argument("program")
@click.option("--framework")
@click.option("--year", type=click.IntRange(1, 8), help="only this year's courses (1-8, as the API)")
@click.option("--course")
@click.option("--role")
@click.option("--include-suggestions", type=click.FloatRange(0, 1), help="count unreviewed suggestions at this precision")
@click.option("--via", help="the framework the program is aligned to (report through the accepted crosswalk)")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "ttl"]), default="table")
@click.pass_context
def report(ctx, program, framework, year, course, role, include_suggestions, via, fmt):
    """Gap report of PROGRAM against a framework."""
    from ontology.read import reports
    ws = workspace_for(ctx)
    rep = reports.gap_report(ws.store, ws.ids, program, framework, via=via, year=year, course=course, role=role,
                             include_suggestions=include_suggestions)
    if fmt == "json":
        echo_json(rep.to_dict())
    elif fmt == "csv":
        click.echo(rep.to_csv(), nl=False)
    elif fmt == "ttl":
        click.echo(rep.to_graph(ws.ids).serialize(format="turtle"))
    else:
        s = rep.summary
        click.echo(f"{program} against {rep.framework}: {s['competencies']} competencies, taught {s['taught_pct']}%, "
                   f"assessed {s['assessed_pct']}%, covered {s['covered_pct']}%")
        for status, n in s["counts"].items():
            if status != "covered" and n:
                click.echo(f"  {status:<22} {n:>3}: {', '.join(rep.by_status(status))}")


@main.command()
@click.argument("program")
@click.argument("role")
@click.pass_context
def readiness(ctx, program, role):
    """How ready PROGRAM's graduates are for ROLE."""
    from ontology.read import reports
    ws = workspace_for(ctx)
    echo_json(reports.readiness(ws.store, ws.ids, program, role).to_dict())


@main.group()
def export():
    """Export a framework or a program in a standard format (CASE, MedBiquitous CI)."""


@export.command("case")
@click.argument("framework")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="file to write (default: stdout)")
@click.pass_context
def export_case(ctx, framework, output):
    """FRAMEWORK as a 1EdTech CASE CFPackage (JSON)."""
    from loaders.case import export_package
    ws = workspace_for(ctx)
    _write(json.dumps(export_package(ws.store, ws.ids, framework), indent=2, ensure_ascii=False), output)


@export.command("ci")
@click.argument("program")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="file to write (default: stdout)")
@click.pass_context
def export_ci_cmd(ctx, program, output):
    """PROGRAM as MedBiquitous Curriculum Inventory v1 XML."""
    from loaders.medbiq_ci import export_ci
    ws = workspace_for(ctx)
    _write(export_ci(ws.store, ws.ids, program), output)


def _write(text: str | bytes, output: str | None):
    if output is None:
        click.echo(text if isinstance(text, str) else text.decode("utf-8"))
        return
    Path(output).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    click.echo(f"wrote {output}", err=True)


@main.command()
@click.pass_context
def check(ctx):
    """OWL consistency and classification check (HermiT) of the ontology and all data."""
    from ontology.reasoning import check_consistency
    ws = workspace_for(ctx)
    rep = check_consistency([ws.store.graph(g) for g in ws.store.graph_names()])
    echo_json(rep.to_dict())
    if not rep.consistent:
        ctx.exit(6)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="request threads")
@click.option("--dev", is_flag=True, help="Flask's development server (auto-reload off) instead of gunicorn")
@click.pass_context
def serve(ctx, host, port, threads, dev):
    """Serve the API and web UI (gunicorn, one process: the embedded store belongs to one process)."""
    from .app import create_app
    cfg = ctx.obj["config"]
    _first_admin(ctx)
    ctx.obj.pop("users").close()  # no SQLite connection across gunicorn's fork: the app opens its own
    # SPARQL may hold at most half the request threads, so slow queries never starve the pages.
    cfg.SPARQL_MAX_CONCURRENT = max(1, min(int(getattr(cfg, "SPARQL_MAX_CONCURRENT", 4)), threads // 2))
    click.echo(f"Gapmap on http://{host}:{port}/  (API: /api/docs, /api/openapi.json, SPARQL: /sparql, vocabulary: /ns)")
    if dev:
        create_app(cfg).run(host=host, port=port, threaded=True)
        return
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self):
            for k, v in {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread", "threads": threads,
                         "timeout": 120, "accesslog": "-", "loglevel": "info",
                         # gunicorn's control socket is one path per user (~/.gunicorn): a second server
                         # on the host would share it, and stopping one removes the other's
                         "control_socket_disable": True}.items():
                self.cfg.set(k, v)

        def load(self):
            # One worker: the app (and the store it opens) lives in that worker only.
            return create_app(cfg)

    _App().run()


# Accounts ------------------------------------------------------------------------------------------
ROLE_CHOICE = click.Choice(["viewer", "educator", "committee", "admin"])


@main.group()
def user():
    """Accounts: add, list, remove, token, password (works while the server runs)."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=ROLE_CHOICE)
@click.option("--institution", "inst", help="default: the --institution of gapmap")
@click.option("--course", "courses", multiple=True, help="a course an educator is responsible for (repeat)")
@click.option("--password", help="default: a one-time password is generated and printed")
@click.pass_context
def user_add(ctx, name, role, inst, courses, password):
    """Create a user; prints its one-time password and, as the last word, its API token."""
    inst = inst or ctx.find_root().obj["institution"]
    made = _users(ctx).add_user(name, role, institution=inst, courses=list(courses), password=password,
                                generate_password=password is None)
    _audit(ctx.find_root(), f"user add {name} role={role} institution={inst}")
    a = made.account
    click.echo(f"created {a.role} {a.name} of institution {a.institution}"
               + (f" (courses {', '.join(sorted(a.courses))})" if a.courses else ""))
    if made.password and password is None:
        click.echo(f"one-time password (change it at first sign-in): {made.password}")
    click.echo(f"API token (shown once): {made.token}")


@user.command("list")
@click.option("--institution", "inst", help="only this institution")
@click.pass_context
def user_list(ctx, inst):
    """List users: name, role, institution, courses."""
    for a in _users(ctx).users(inst):
        click.echo(f"{a.name:<24} {a.role:<10} {a.institution:<16} {','.join(sorted(a.courses))}")


@user.command("remove")
@click.argument("name")
@click.pass_context
def user_remove(ctx, name):
    """Remove a user and revoke its tokens (its past decisions keep its name)."""
    _users(ctx).remove_user(name)
    _audit(ctx.find_root(), f"user remove {name}")
    click.echo(f"removed {name}")


@user.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="revoke every token of the user instead")
@click.pass_context
def user_token(ctx, name, revoke):
    """Make a new API token for NAME (printed as the last word), or revoke all of NAME's tokens."""
    db = _users(ctx)
    if revoke:
        if db.get(name) is None:
            raise click.UsageError(f"no user {name!r}")
        n = db.revoke_tokens(name)
        _audit(ctx.find_root(), f"user token --revoke {name}")
        click.echo(f"revoked {n} token(s) of {name}")
        return
    made = db.new_token(name, label="gapmap user token")
    _audit(ctx.find_root(), f"user token {name}")
    click.echo(f"API token for {name} (shown once): {made.token}")


@user.command("password")
@click.argument("name")
@click.pass_context
def user_password(ctx, name):
    """Reset NAME's password to a new one-time password (printed as the last word)."""
    import secrets
    pw = secrets.token_urlsafe(12)
    _users(ctx).set_password(name, pw, must_change=True)
    _audit(ctx.find_root(), f"user password {name}")
    click.echo(f"one-time password for {name}: {pw}")


@user.command("copy-db")
@click.option("--to", "to", required=True, metavar="URL",
              help="the new account database: postgresql://user:password@host/db (or a SQLite path)")
@click.pass_context
def user_copy_db(ctx, to):
    """Copy the account database (GAPMAP_USERS_DB: users, institutions, tokens, sessions, audit) into an
    empty one, e.g. var/users.sqlite into PostgreSQL; then set GAPMAP_USERS_DB=URL on every replica."""
    from .users import UserDB, copy_db, safe_url
    source = _users(ctx)
    dest = UserDB(to)
    try:
        copied = copy_db(source, dest)
        import getpass
        dest.audit(user=f"cli:{getpass.getuser()}", institution=ctx.find_root().obj["institution"], method="CLI",
                   path="gapmap", status=0, summary=f"user copy-db from {source.path}")
    finally:
        dest.close()
    click.echo(f"copied {source.path} -> {safe_url(to)}: "
               + ", ".join(f"{n} {table}" for table, n in copied.items()))
    click.echo(f"next: GAPMAP_USERS_DB='{safe_url(to)}' (with its password) on every replica, then restart them")


@main.group()
def institution():
    """Institutions (tenants): each has its own store, IRIs and users."""


@institution.command("add")
@click.argument("inst_id")
@click.option("--name", help="a display name")
@click.pass_context
def institution_add(ctx, inst_id, name):
    """Register institution INST_ID; load its data with `gapmap --institution INST_ID init --data …`."""
    from .tenants import institution_config
    _users(ctx).add_institution(inst_id, name)
    _audit(ctx.find_root(), f"institution add {inst_id}")
    cfg = institution_config(ctx.find_root().obj["config"], inst_id)
    click.echo(f"institution {inst_id}: store {cfg.STORE_PATH}, IRIs under {cfg.BASE}")


@institution.command("list")
@click.pass_context
def institution_list(ctx):
    for i in _users(ctx).institutions():
        click.echo(f"{i['id']:<20} {i['name']}")


@main.command()
@click.option("--all", "everything", is_flag=True, help="every institution (default: --institution's)")
@click.option("--page", default=1, type=click.IntRange(1))
@click.option("--per-page", default=50, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def audit(ctx, everything, page, per_page, as_json):
    """The audit log of writes (who, institution, method, path, status, when), newest first."""
    rows = _users(ctx).audit_rows(institution=None if everything else ctx.obj["institution"], page=page,
                                  per_page=per_page)
    if as_json:
        echo_json(rows)
        return
    for r in rows["entries"]:
        click.echo(f"{r['at']}  {r['user'] or '-':<20} {r['institution'] or '-':<12} {r['method']:<6} "
                   f"{r['status'] if r['status'] is not None else '-':<4} {r['path']}  {r['summary'] or ''}")
    click.echo(f"({len(rows['entries'])} of {rows['total']}, page {page})", err=True)


from .cli_careers import COMMANDS as _CAREERS  # noqa: E402  (profile, plan, match, pipeline)

for _c in _CAREERS:
    main.add_command(_c)



# --- committee workbench ------------------------------------------------------------------------------
@main.command()
@click.argument("program")
@click.option("--role", help="judge mastery against this role's levels")
@click.option("--stage", default="graduation", show_default=True, help="graduation, end_of_residency, post_training, all")
@click.option("--mastery-level", default=3, show_default=True, type=click.IntRange(1, 5))
@click.pass_context
def progression(ctx, program, role, stage, mastery_level):
    """Where PROGRAM introduces, reinforces and brings each competency to the required level (JSON)."""
    from ontology.progression import progression as run
    ws = workspace_for(ctx)
    echo_json(run(ws.store, ws.ids, program, ws.program_framework(program), role=role, mastery_level=mastery_level,
                   stage=None if stage == "all" else stage).to_dict())


@main.command()
@click.argument("program")
@click.option("--threshold", default=0.9, show_default=True, type=click.FloatRange(0.5, 1.0),
              help="cosine from which two objectives of different courses are near-duplicates")
@click.option("--no-duplicates", is_flag=True, help="skip the near-duplicate check (no model needed)")
@click.pass_context
def health(ctx, program, threshold, no_duplicates):
    """Curriculum health checks of PROGRAM (JSON)."""
    from ontology.health import CHECKS, health as run
    ws = workspace_for(ctx)
    fw = ws.program_framework(program)
    checks = tuple(c for c in CHECKS if not (no_duplicates and c == "near_duplicates"))
    echo_json(run(ws.store, ws.ids, program, fw, encoder=None if no_duplicates else ws.linker(fw).encoder,
                   threshold=threshold, checks=checks).to_dict())


@main.command()
@click.argument("source")
@click.argument("target")
@click.option("--top-k", default=3, show_default=True, type=click.IntRange(1, 10))
@click.pass_context
def crosswalk(ctx, source, target, top_k):
    """Suggest mappings from framework SOURCE to framework TARGET (decisions already taken are kept)."""
    from ontology.crosswalk import run_crosswalk
    ws = workspace_for(ctx)
    echo_json(run_crosswalk(ws.store, ws.ids, source, target, ws.linker(target), top_k=top_k).to_dict())

if __name__ == "__main__":
    sys.exit(main())
