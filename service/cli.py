"""The `gapmap` command: init, load, align, link, report, readiness, check, serve."""
from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path

import click

from ontology.errors import GapmapError

from .config import Config

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _ws(ctx) -> "Workspace":  # noqa: F821
    from .workspace import Workspace
    if "ws" not in ctx.obj:
        ctx.obj["ws"] = Workspace.from_config(ctx.obj["config"])
    return ctx.obj["ws"]


def _echo_json(obj):
    click.echo(json.dumps(obj, indent=2, default=str))


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
@click.pass_context
def main(ctx, store):
    """Gapmap: competency mapping and curriculum gap analysis."""
    cfg = Config()
    if store is not None:
        cfg.STORE_PATH = store
    ctx.ensure_object(dict)
    ctx.obj["config"] = cfg

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
    ws = _ws(ctx)
    data = Path(data_dir or ws.config.DATA_DIR)
    t0 = time.perf_counter()
    for r in ws.load_manifest(data / "manifest.json"):
        click.echo(f"loaded {r['path']:<32} {r['triples']:>7} triples in {r['seconds']:.2f}s  {r['summary']}")
    if align:
        for p in ws.store.select("programs"):
            res = ws.align(p["id"])
            click.echo(f"aligned {p['id']}: {res.suggestions} suggestions for {res.objectives} objectives "
                       f"in {res.seconds:.1f}s ({res.model_version})")
    click.echo(f"store: {len(ws.store)} triples in {len(ws.store.graph_names())} graphs ({time.perf_counter() - t0:.1f}s)")


@main.command()
@click.argument("loader")
@click.argument("path", type=click.Path(exists=True))
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE", help="loader option")
@click.pass_context
def load(ctx, loader, path, options):
    """Load PATH with LOADER (see `gapmap loaders`), replacing that source's graph."""
    from loaders import Source
    opts = {}
    for o in options:
        if "=" not in o:
            raise click.BadParameter(f"{o!r} is not KEY=VALUE", param_hint="--option")
        k, v = o.split("=", 1)
        opts[k] = v
    _echo_json(_ws(ctx).load(loader, Source.from_path(path), opts).to_dict())


@main.command("loaders")
def list_loaders():
    """List the available loaders and their options."""
    from loaders import available
    for name, cls in available().items():
        click.echo(f"{name:<18} {cls.description}")
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
        _echo_json(_ws(ctx).align(program, framework, top_k=top_k).to_dict())
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
        res = _ws(ctx).align(program, framework, top_k=top_k, progress=report)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    _echo_json(res.to_dict())


@main.command()
@click.argument("program")
@click.argument("course")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", envvar="GAPMAP_USER", required=True, help="who uploads (recorded with PROV)")
@click.option("--year", type=int, help="the course's year, when the course is new")
@click.option("--title", help="the course's title, when the course is new")
@click.option("--align/--no-align", default=True, help="align the extracted objectives at once")
@click.pass_context
def syllabus(ctx, program, course, path, user, year, title, align):
    """Extract learning objectives from a syllabus (PDF, DOCX, HTML, Markdown, text) into COURSE."""
    p = Path(path)
    res = _ws(ctx).upload_syllabus(program, course, p.name, p.read_bytes(), user, year=year, title=title,
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


@main.command()
@click.option("--competencies", required=True, type=click.Path(exists=True, dir_okay=False), help="COMP.jsonl")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False), help="QUERIES.jsonl")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="PRED.jsonl")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 1000))
def link(competencies, input_path, output, top):
    """Rank competencies for each query line (the linking command contract)."""
    from ontology.alignment.linkfiles import link_files
    link_files(competencies, input_path, output, top=top, progress=True)


@main.command()
@click.argument("program")
@click.option("--framework")
@click.option("--year", type=int)
@click.option("--course")
@click.option("--role")
@click.option("--include-suggestions", type=click.FloatRange(0, 1), help="count unreviewed suggestions at this precision")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "ttl"]), default="table")
@click.pass_context
def report(ctx, program, framework, year, course, role, include_suggestions, fmt):
    """Gap report of PROGRAM against a framework."""
    from ontology.gaps import gap_report
    ws = _ws(ctx)
    rep = gap_report(ws.store, ws.ids, program, framework or ws.program_framework(program), year=year,
                     course=course, role=role, include_suggestions=include_suggestions)
    if fmt == "json":
        _echo_json(rep.to_dict())
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
    from ontology.gaps import role_readiness
    ws = _ws(ctx)
    _echo_json(role_readiness(ws.store, ws.ids, program, role).to_dict())


@main.command()
@click.pass_context
def check(ctx):
    """OWL consistency and classification check (HermiT) of the ontology and all data."""
    from ontology.reasoning import check_consistency
    ws = _ws(ctx)
    rep = check_consistency([ws.store.graph(g) for g in ws.store.graph_names()])
    _echo_json(rep.to_dict())
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
    click.echo(f"Gapmap on http://{host}:{port}/  (API: /api/openapi.json, SPARQL: /sparql, vocabulary: /ns)")
    if dev:
        create_app(cfg).run(host=host, port=port, threaded=True)
        return
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self):
            for k, v in {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread", "threads": threads,
                         "timeout": 120, "accesslog": "-", "loglevel": "info"}.items():
                self.cfg.set(k, v)

        def load(self):
            # One worker: the app (and the store it opens) lives in that worker only.
            return create_app(cfg)

    _App().run()


if __name__ == "__main__":
    sys.exit(main())
