"""Where the stages meet. The CLI, the daemon and the web app call these and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.errors import ConfigError
from syndicate.models import GatherReport
from syndicate.project.settings import Config
from syndicate.sources import Progress, source_for
from syndicate.store import Store

if TYPE_CHECKING:  # the feed writers load only when feeds are built
    from syndicate.feeds.build import BuildReport


def gather(
    config: Config, store: Store, progress: Progress, source: str | None = None
) -> GatherReport:
    """Run every source (or the one named) into the store; resolve cross-links; report."""
    if source is not None and source not in config.sources:
        raise ConfigError(
            f"no source named {source!r}",
            f"sources in syndicate.toml: {', '.join(config.sources) or 'none'}",
        )
    names = [source] if source else list(config.sources)
    report = GatherReport(started=datetime.now(UTC))
    for name in names:
        source_for(config.sources[name], config.site, store).gather(report, progress)
    report.crosslinks = store.resolve_crosslinks()
    report.finished = datetime.now(UTC)
    store.record_gather(",".join(names), report)
    return report


def build_feeds(config: Config, store: Store, out: Path | None = None) -> BuildReport:
    """Write every feed of feeds/*.toml (default into the project's public/feeds)."""
    from syndicate.feeds.build import build_feeds as build
    from syndicate.feeds.websub import ping_changed

    report = build(config, store, out)
    hub = config.feeds.get("hub")
    if hub:
        report.failures += ping_changed(hub, report.changed_urls, out or config.feeds_out)
    return report


def create_edition(config: Config, store: Store, schedule_name: str, slot: datetime):
    """Make and store the edition of (schedule, slot) once; see digest.make.create_edition."""
    from syndicate.digest.make import create_edition as make
    from syndicate.project.schedules import digest_schedule

    return make(
        config, store, digest_schedule(config.project, schedule_name), slot, datetime.now(UTC)
    )


def retry_policy(config: Config):
    """The [mail] settings that govern claiming, retrying and pausing, as a RetryPolicy."""
    from datetime import timedelta

    from syndicate.deliver.send import RetryPolicy

    mail = config.mail
    return RetryPolicy(
        max_attempts=mail.get("max_attempts", 8),
        base_delay=float(mail.get("retry_base", 60)),
        max_age=timedelta(hours=float(mail.get("retry_max_age_hours", 48))),
        wait=float(mail.get("send_wait", 120)),
        pause_after=mail.get("pause_after", 20),
        batch=mail.get("batch", 100),
        lease=timedelta(seconds=float(mail.get("claim_lease", 600))),
    )


def send_edition(config: Config, store: Store, made, progress=None, stop=None):
    """Deliver a stored edition to its ledger's rows; see deliver.send.deliver_edition."""
    from syndicate.deliver import open_transport
    from syndicate.deliver.send import deliver_edition

    return deliver_edition(
        store,
        made.edition.id,
        made.message,
        open_transport(config.mail_url, config.project),
        retry_policy(config),
        progress,
        edition_made=made.edition.created_at,
        stop=stop,
    )
