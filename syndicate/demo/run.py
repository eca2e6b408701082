"""`syndicate demo`: the pipeline once, on the bundled sample site, with embedded defaults."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import click

from syndicate import pipeline
from syndicate.cli.progress import progress_for_terminal
from syndicate.demo.stories import POSTAL_ADDRESS
from syndicate.errors import ConfigError, SyndicateError
from syndicate.models import Story
from syndicate.project import Project
from syndicate.project.secret import DEMO_MARKER
from syndicate.project.settings import Config
from syndicate.project.starter import init_project
from syndicate.store import open_store
from syndicate.urls import media_name


def run_demo(directory: Path) -> int:
    """Serve the sample site on 127.0.0.1, gather it into SQLite, list what was stored.

    The demo project is rewritten on every run (the sample site's port changes, and with it
    every story URL); a directory that is not a demo project is never touched.
    """
    from syndicate.demo.sample_site import serve

    if directory.exists() and any(directory.iterdir()) and not (directory / DEMO_MARKER).exists():
        raise ConfigError(
            f"{directory} exists and is not a syndicate demo project",
            "pass --dir with a new or empty directory",
        )
    if directory.exists():
        shutil.rmtree(directory)
    base, server = serve()
    try:
        # No allow_private: the sample site is the configured site, whose own host is
        # crawled even on 127.0.0.1.
        init_project(directory, base, "Europe/London", "The Harbour Gazette")
        cfg = directory / "syndicate.toml"  # the sample publisher's address, for the footer
        cfg.write_text(
            re.sub(
                r"(?m)^# postal_address = .*$",
                f"postal_address = {json.dumps(POSTAL_ADDRESS)}",
                cfg.read_text(),
            )
        )
        (directory / DEMO_MARKER).write_text("written by `syndicate demo`; safe to delete\n")
        # Embedded defaults only: a SYNDICATE_MAIL__URL meant for a real project must not
        # send the made-up subscribers' digest through a real mail server.
        project = Project.load(directory, env={})
        project.make_secret()  # the demo signs its links with a key of its own
        config = project.config
        store = open_store(config.store_url)
        try:
            with progress_for_terminal() as progress:
                report = pipeline.gather(config, store, progress)
            stories = store.stories()
            # Built while the sample site still answers, so image sizes can be asked.
            built = pipeline.build_feeds(config, store)
            kept = _keep_images(config, stories, base)
            previews = _preview_digest(project, store, directory)
            delivered = _deliver_digest(project, store)
        finally:
            store.close()
    finally:
        server.stop()
    click.echo(f"sample site served at {base} (stopped now)")
    click.echo(report.summary())
    for story in stories:
        when = (
            story.published.astimezone(config.site.tz).strftime("%Y-%m-%d")
            if story.published
            else "undated   "
        )
        click.echo(f"  {when}  {story.section or '-':<9} {story.title}")
        for link in story.also_read:
            mark = " (external)" if link.external else ""
            click.echo(f"  {'':10}  {'':9}   also read: {link.label}{mark}")
    click.echo(built.summary())
    click.echo(delivered.summary)
    click.echo(f"\nproject: {directory}/  store: {config.store_url}")
    click.echo(f"feeds:   {config.feeds_out}/ (all.rss, all.atom, all.json, sections/, index.opml)")
    click.echo(f"outbox:  {delivered.outbox}/ ({delivered.sent} messages, one per subscriber)")
    click.echo(
        f"images:  {config.media_dir}/ ({kept} lead images, kept for the emails: they show "
        f"them from {config.public_url}/media/ while `serve` runs)"
    )
    for path in previews:
        click.echo(f"digest:  {path}")
    click.echo(f"look:    syndicate --project {directory} stories --json")
    click.echo(
        f"serve:   syndicate --project {directory} serve   # then {config.public_url}/feeds/"
        " (and the emails' images)"
    )
    click.echo(
        f"daemon:  syndicate --project {directory} run     # schedules/ on their clocks"
        " (the demo needs no SYNDICATE_SECRET_KEY)"
    )
    failed = report.failed or built.failures or delivered.failed
    return 1 if failed else 0


def _keep_images(config: Config, stories: list[Story], base: str) -> int:
    """Copy the sample site's lead images into the project's public/media/ while the site
    still answers, and say how many: the site's port is gone when the demo ends, so the
    emails show these copies instead (the renderer links a kept copy, served by the web
    app at /media/), and they still show after the demo."""
    import httpx

    config.media_dir.mkdir(parents=True, exist_ok=True)
    kept = 0
    with httpx.Client(timeout=10, trust_env=False) as client:
        for story in stories:
            url = story.image.url if story.image else ""
            name = media_name(url) if url.startswith(base) else ""
            if not name:
                continue
            answer = client.get(url)
            if answer.status_code == 200 and answer.headers["content-type"].startswith("image/"):
                (config.media_dir / name).write_bytes(answer.content)
                kept += 1
    return kept


def _preview_digest(project: Project, store, directory: Path) -> list[Path]:
    """The daily digest's next edition as .html and .eml files (nothing is sent)."""

    config = project.config
    schedule = project.digest("daily")
    made = pipeline.preview_edition(config, store, schedule)
    if made is None:
        return []
    reader = pipeline.preview_reader(config, schedule, "reader", "Demo Reader")
    paths = [directory / "public" / "previews" / f"daily.{kind}" for kind in ("html", "eml")]
    for path in paths:
        pipeline.write_preview(made, path, reader)
    return paths


SAMPLE_SUBSCRIBERS = (
    ("ada@example.org", "Ada Reader"),
    ("ben@example.net", "Ben Subscriber"),
    ("chidi@example.com", "Chidi Okafor"),
)


@dataclass
class Delivered:
    """What the demo's send did."""

    outbox: Path
    sent: int = 0
    failed: int = 0
    summary: str = ""


def _deliver_digest(project: Project, store) -> Delivered:
    """Subscribe the sample readers (consent attested: they are made up) and deliver this
    minute's daily edition through the project's transport, the Maildir outbox."""
    from datetime import UTC, datetime

    from syndicate.people import subscribe

    config = project.config
    outbox = config.project / config.mail_url.removeprefix("maildir:")
    for email, name in SAMPLE_SUBSCRIBERS:
        # As `subscribers add --confirmed` does: active at once, consent time recorded.
        subscribe(store, email, name, ["daily"], confirmed=True)
    now = datetime.now(UTC)
    schedule = project.digest("daily")
    run = pipeline.deliver_digest(
        config, store, schedule, now.replace(second=0, microsecond=0), now
    )
    if run.made is None:
        return Delivered(outbox, summary="sent: no edition (nothing new to send)")
    report = run.outcome()
    return Delivered(outbox / "new", report.sent, report.failed, report.summary())


def serve_forever(port: int) -> int:
    """Serve the sample site on 127.0.0.1:port until interrupted (for the repo's own project)."""
    import time

    from syndicate.demo.sample_site import serve

    try:
        base, server = serve(port=port)
    except OSError as exc:
        raise SyndicateError(
            f"cannot serve the sample site on 127.0.0.1:{port}: {exc.strerror}",
            "pick another port with --serve PORT",
        ) from exc
    click.echo(f"serving the sample site at {base} (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
