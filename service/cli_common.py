"""What every `gapmap` command module shares: the chosen institution's workspace, the account
database, JSON output.  A leaf module, so command modules never import service.cli back."""
from __future__ import annotations

import json

import click


def workspace_for(ctx) -> "Workspace":  # noqa: F821
    """The workspace of the institution chosen with --institution (default: the default institution)."""
    from .tenants import institution_config
    from .workspace import Workspace
    if "ws" not in ctx.obj:
        inst = ctx.obj["institution"]
        if inst != "default" and not users_for(ctx).has_institution(inst):
            raise click.UsageError(f"no institution {inst!r}: create it with `gapmap institution add {inst}`")
        ctx.obj["ws"] = Workspace.from_config(institution_config(ctx.obj["config"], inst))
    return ctx.obj["ws"]


def users_for(ctx):
    """The account database beside the store (never opens the store: safe while the server runs)."""
    from .auth import open_users
    if "users" not in ctx.obj:
        ctx.obj["users"] = open_users(ctx.obj["config"])
    return ctx.obj["users"]


def echo_json(obj):
    click.echo(json.dumps(obj, indent=2, default=str))
