"""What every command gets from the click context: the project, loaded once, and its store.

Its own module so that main.py (the root group) and mail.py (commands it adds) both
import it, and neither imports the other's half."""

from __future__ import annotations

import click

from syndicate.project import Project
from syndicate.project.secret import KEY_FILE
from syndicate.project.settings import Config
from syndicate.store import Store, open_store


def project_of(ctx: click.Context, signs: bool = False) -> Project:
    """The project, loaded once per command. A command that signs links (signs=True) makes
    the project's key file first when there is no key yet, and says so."""
    root = ctx.find_root()
    if "project" not in root.meta:
        root.meta["project"] = Project.load(root.obj)
    project = root.meta["project"]
    if signs and project.make_secret():
        click.echo(
            f"made a secret key in {project.root / KEY_FILE} (it signs every link mailed; keep "
            "it, or set SYNDICATE_SECRET_KEY)",
            err=True,
        )
    return project


def open_project(ctx: click.Context, signs: bool = False) -> tuple[Config, Store]:
    """The project's config and an open store (the caller closes it)."""
    config = project_of(ctx, signs).config
    return config, open_store(config.store_url)
