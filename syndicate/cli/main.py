"""The command line: thin, builds objects from the config and calls the pipeline.

Exit status: 0 done; 1 done with failures; 2 bad usage or config.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import urlsplit

import click

from syndicate import __version__, pipeline
from syndicate.cli.context import open_project, project_of
from syndicate.cli.editions import editions
from syndicate.cli.mail import bounces, send, subscribers
from syndicate.cli.mailcheck import mail
from syndicate.cli.progress import progress_for_terminal
from syndicate.errors import ConfigError, SyndicateError
from syndicate.models import Story
from syndicate.project.timing import parse_when


class _Group(click.Group):
    """Turn our errors into one clear line and the contract's exit codes."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            if exc.hint:
                click.echo(f"hint: {exc.hint}", err=True)
            ctx.exit(2)
        except SyndicateError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Group)
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("SYNDICATE_PROJECT", "."),
    help="project directory (default: current directory or $SYNDICATE_PROJECT)",
)
@click.version_option(__version__, prog_name="syndicate")
@click.pass_context
def cli(ctx: click.Context, project: Path) -> None:
    """syndicate: news stories and their ALSO READ cross-links, as feeds and digests."""
    ctx.obj = project


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--site-url", required=True, help="the news site's home page")
@click.option(
    "--timezone",
    default="UTC",
    show_default=True,
    help="IANA zone for dates written without an offset",
)
@click.option(
    "--name", default="", help="the publication's name (default: read from the home page)"
)
def init(directory: Path, site_url: str, timezone: str, name: str) -> None:
    """Write a starter project (syndicate.toml, feeds/, schedules/, templates/)."""
    from syndicate.project.starter import check_init, init_project
    from syndicate.urls import is_private_host

    check_init(directory, site_url, timezone)  # before anything is fetched
    if not name:
        found = pipeline.site_name(site_url)
        name = found.name
        if found.found_in:
            click.echo(f'name: "{name}", from the home page\'s {found.found_in} ([site] name)')
        else:
            click.echo(
                f'name: {found.problem}; using the host "{name}" (set [site] name, or --name)'
            )
    written = init_project(directory, site_url, timezone, name)
    host = urlsplit(site_url).hostname or ""
    if is_private_host(host):
        click.echo(
            f"crawl: {host} is a loopback/private address; as the configured site it is "
            "crawled, other private hosts stay refused (allow_private)"
        )
    click.echo(f"wrote {len(written)} files into {directory}/")
    click.echo(f"next: syndicate --project {directory} gather")


@cli.command()
@click.option("--source", help="run only this source from syndicate.toml")
@click.pass_context
def gather(ctx: click.Context, source: str | None) -> None:
    """Fetch new and changed stories and their cross-links into the store."""
    config, store = open_project(ctx)
    try:
        with progress_for_terminal() as progress:
            report = pipeline.gather(config, store, progress, source)
    finally:
        store.close()
    click.echo(report.summary())
    ctx.exit(1 if report.failed else 0)


def story_json(story: Story, tz: tzinfo) -> dict:
    """A story in the JSON shape of `stories --json` (the fixtures' truth keys)."""

    def when(dt: datetime | None) -> str | None:
        return dt.astimezone(tz).isoformat() if dt else None

    return {
        "url": story.url,
        "title": story.title,
        "published": when(story.published),
        "modified": when(story.modified),
        "author": story.author,
        "section": story.section,
        "tags": story.tags,
        "image": {"url": story.image.url, "caption": story.image.caption} if story.image else None,
        "summary": story.summary,
        "body_text": story.body_text,
        "also_read": [
            {"title": c.label, "url": c.target_url, "external": c.external} for c in story.also_read
        ],
    }


@cli.command()
@click.option("--section", help="only this section (its slug)")
@click.option("--since", help="only stories published since this ISO 8601 time")
@click.option("--limit", type=click.IntRange(min=1), help="at most this many")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.pass_context
def stories(
    ctx: click.Context, section: str | None, since: str | None, limit: int | None, as_json: bool
) -> None:
    """List stored stories, newest first."""
    config, store = open_project(ctx)
    tz = config.site.tz
    since_dt = parse_when(since, tz) if since else None
    if since and since_dt is None:
        raise ConfigError(f"--since {since!r} is not a date", "use ISO 8601, e.g. 2024-05-01")
    try:
        found = store.stories(section=section, since=since_dt, limit=limit)
    finally:
        store.close()
    out = sys.stdout
    for story in found:
        if as_json:
            out.write(json.dumps(story_json(story, tz), ensure_ascii=False) + "\n")
        else:
            when = (
                story.published.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                if story.published
                else "(undated)       "
            )
            links = f"  [{len(story.also_read)} also read]" if story.also_read else ""
            out.write(
                f"{when}  {story.section or '-':<12}  {story.title}{links}\n{'':18}  {story.url}\n"
            )
    if not as_json:
        click.echo(f"{len(found)} stories", err=True)


@cli.group()
def feeds() -> None:
    """Build and check the feeds described in feeds/*.toml."""


def _out_option(help: str):
    return click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=help)


@feeds.command("build")
@_out_option("write here instead of [feeds] out (default public/feeds)")
@click.pass_context
def feeds_build(ctx: click.Context, out: Path | None) -> None:
    """Write every feed as RSS, Atom and JSON Feed, plus index.opml and autodiscovery.html."""
    config, store = open_project(ctx)
    try:
        report = pipeline.build_feeds(config, store, out)
    finally:
        store.close()
    for line in report.failures:
        click.echo(f"failed: {line}", err=True)
    click.echo(report.summary())
    ctx.exit(1 if report.failures else 0)


@feeds.command("validate")
@_out_option("check this directory instead of [feeds] out")
@click.pass_context
def feeds_validate(ctx: click.Context, out: Path | None) -> None:
    """Check the built feeds against the rules feed validators apply; list every problem."""
    config = project_of(ctx).config
    checked, problems = pipeline.validate_feeds(config, out)
    for line in problems:
        click.echo(f"invalid: {line}", err=True)
    click.echo(f"validated {checked} files: {len(problems)} problems")
    ctx.exit(1 if problems else 0)


@cli.group()
def digest() -> None:
    """Preview the email digests described in schedules/*.toml."""


@digest.command("preview")
@click.argument("name")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write FILE.html, FILE.eml, FILE.txt or FILE.mjml (default: the text on stdout)",
)
@click.option("--open", "open_", is_flag=True, help="open the HTML in a browser, if one exists")
@click.pass_context
def digest_preview(ctx: click.Context, name: str, out: Path | None, open_: bool) -> None:
    """Render the next edition of digest NAME from the stored stories; send nothing."""
    config, store = open_project(ctx, signs=True)
    try:
        schedule = project_of(ctx).digest(name)
        made = pipeline.preview_edition(config, store, schedule)
    finally:
        store.close()
    if made is None:
        click.echo(f"{name}: nothing new since the last edition; no edition would be made")
        return
    reader = pipeline.preview_reader(config, schedule)
    write_preview = pipeline.write_preview
    if out is None and not open_:
        click.echo(made.message.personalize(reader)[1], nl=False)
        return
    if out is None:
        out = config.project / "public" / "previews" / f"{name}.html"
    write_preview(made, out, reader)
    size = len(made.rendered.html.encode("utf-8"))
    click.echo(
        f"{name}: {len(made.edition.featured)} stories"
        + (f" (+{len(made.edition.listed)} headlines)" if made.edition.listed else "")
        + f", subject {made.rendered.subject!r}, "
        f"HTML {size / 1024:.1f} KB → {out}"
    )
    if open_:
        import webbrowser

        page = out if out.suffix.lower() in (".html", ".htm") else out.with_suffix(".html")
        if page != out:
            write_preview(made, page, reader)
        if not webbrowser.open(page.resolve().as_uri()):
            click.echo(f"no browser here; open {page} yourself", err=True)


@cli.command()
@click.option("--host", help="address to listen on (default: [web] host)")
@click.option("--port", type=click.IntRange(0, 65535), help="port (default: [web] port)")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the web app alone: the built feeds at /feeds/…, kept images at /media/…"""
    from syndicate.web.app import serve_app

    project = project_of(ctx, signs=True)
    web = project.config.web
    ctx.exit(serve_app(project, host or web.host, web.port if port is None else port))


@cli.command()
@click.option("--host", help="address the web app listens on (default: [web] host)")
@click.option("--port", type=click.IntRange(0, 65535), help="port (default: [web] port)")
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "text"]),
    help="log lines as JSON or text (default: [daemon] log_format; auto = text on a terminal)",
)
@click.pass_context
def run(ctx: click.Context, host: str | None, port: int | None, log_format: str | None) -> None:
    """Run the daemon: schedules/ fired on time, and the web app (feeds, subscribe, …)."""
    from syndicate.run.daemon import run_daemon

    project = project_of(ctx)
    web = project.config.web
    ctx.exit(run_daemon(project, host or web.host, web.port if port is None else port, log_format))


@cli.command()
@click.option("--once", is_flag=True, help="send what is due now, then exit (1 if any failed)")
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "text"]),
    help="log lines as JSON or text (default: [daemon] log_format; auto = text on a terminal)",
)
@click.pass_context
def worker(ctx: click.Context, once: bool, log_format: str | None) -> None:
    """Run a send worker: claim and send the messages of any open edition, until stopped."""
    from syndicate.run.worker import run_worker

    ctx.exit(run_worker(project_of(ctx), log_format, once))


@cli.group()
def db() -> None:
    """The store's schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply the schema migrations this release needs (SQLite or PostgreSQL)."""
    from syndicate.store import shown_url, upgrade_schema

    config = project_of(ctx).config
    shown = shown_url(config.store_url)
    before, after = upgrade_schema(config.store_url)
    if before == after:
        click.echo(f"store {shown}: schema already at {after}")
    else:
        click.echo(f"store {shown}: schema {before or 'empty'} -> {after}")


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Last gather, next runs, recent editions, senders at work, subscriber totals."""
    from syndicate.cli.status import print_status

    config, store = open_project(ctx)
    try:
        print_status(project_of(ctx), store)
    finally:
        store.close()


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("syndicate-demo"),
    show_default=True,
    help="where the demo project is written",
)
@click.option(
    "--serve",
    "serve_port",
    type=click.IntRange(0, 65535),
    default=None,
    help="only serve the sample site on 127.0.0.1:PORT until Ctrl-C",
)
@click.pass_context
def demo(ctx: click.Context, directory: Path, serve_port: int | None) -> None:
    """Run the pipeline once on the bundled sample site, with embedded defaults."""
    from syndicate.demo.run import run_demo, serve_forever

    if serve_port is not None:
        ctx.exit(serve_forever(serve_port))
    ctx.exit(run_demo(directory))


# The mail commands live in cli/mail.py; the root group is this one.
cli.add_command(subscribers)
cli.add_command(bounces)
cli.add_command(send)
cli.add_command(editions)
cli.add_command(mail)


def main() -> None:
    """Entry point of the `syndicate` command."""
    cli(prog_name="syndicate")
