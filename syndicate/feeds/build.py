"""Build every feed in feeds/ from the store: RSS, Atom and JSON files, OPML, autodiscovery.

Deterministic and lazy: a feed's fingerprint is a hash of everything that goes into it
(spec, channel settings, stories, image sizes, our version). When the fingerprint and the
files on disk match the manifest of the last build, nothing is rendered or written; when
bytes come out the same, the file is left alone (its mtime stays). Writes are atomic.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from syndicate import __version__
from syndicate.errors import ConfigError
from syndicate.feeds.document import EPOCH, Channel, Entry, Media, entry_for, text
from syndicate.feeds.jsonfeed import json_feed_bytes, rfc3339
from syndicate.feeds.media import known_media
from syndicate.feeds.outline import autodiscovery_html, opml_bytes
from syndicate.feeds.render import atom_bytes, rss_bytes
from syndicate.feeds.spec import MEDIA_TYPES, Feed, expand, load_feed_specs
from syndicate.models import Story
from syndicate.project.settings import Config
from syndicate.store import ArchiveStore
from syndicate.urls import host_of

MANIFEST = ".manifest.json"
_WRITERS = {"rss": rss_bytes, "atom": atom_bytes, "json": json_feed_bytes}


@dataclass
class BuildReport:
    """What one `feeds build` did."""

    feeds: int = 0
    files: int = 0
    written: list[str] = field(default_factory=list)  # paths relative to the out dir
    changed_urls: list[str] = field(default_factory=list)  # public URLs of changed feeds
    removed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The one-line summary printed at the end of a build."""
        removed = f", {len(self.removed)} removed" if self.removed else ""
        return (
            f"feeds: {self.feeds} feeds, {self.files} files, {len(self.written)} written, "
            f"{self.files - len(self.written)} unchanged{removed}, {len(self.failures)} failed"
        )


def build_feeds(config: Config, store: ArchiveStore, out: Path | None = None) -> BuildReport:
    """Write every feed, the OPML index and the autodiscovery snippet into ``out``."""
    out = out or config.feeds_out
    specs = load_feed_specs(config.project)
    if not specs:
        raise ConfigError(
            f"{config.project / 'feeds'}: no feed definitions (*.toml)",
            "run 'syndicate init' for a starter, or add feeds/all.toml",
        )
    feeds = expand(specs, store.sections(), config.publication)
    sources = list(config.sources.values())
    out.mkdir(parents=True, exist_ok=True)
    old = read_manifest(out)
    manifest: dict[str, Any] = {"version": 1, "feeds": {}}
    report = BuildReport(feeds=len(feeds))
    # The cheap keys decide whether anything is rendered at all: a rebuild with nothing new
    # reads no story bodies. What image servers said is part of them, so an image whose
    # size becomes known (a probe retried a day later) does change its feeds.
    keys = {feed.path: store.story_keys(feed.sections, feed.spec.entries) for feed in feeds}
    media = known_media(
        store,
        [k[5] for rows in keys.values() for k in rows if k[5]],
        probe=bool(config.feeds.probe_images),
        allow_private=any(s.allow_private for s in sources),
        user_agent=sources[0].user_agent if sources else "syndicate",
        own_hosts={host_of(config.site.url)},
    )
    for feed in feeds:
        rows = [[*k, media.get(k[5]) if k[5] else None] for k in keys[feed.path]]
        fingerprint = _fingerprint(config, feed, rows)
        previous = old["feeds"].get(feed.path)
        report.files += len(feed.spec.formats)
        if previous and previous["fingerprint"] == fingerprint and _intact(out, previous):
            manifest["feeds"][feed.path] = previous
            continue
        stories = _stories(store, feed)
        channel = _channel(config, feed, stories, media)
        files = {}
        for fmt in feed.spec.formats:
            data = _WRITERS[fmt](channel)
            rel = feed.file(fmt)
            if write_if_changed(out / rel, data):
                report.written.append(rel)
                report.changed_urls.append(channel.self_urls[fmt])
            files[fmt] = {
                "file": rel,
                "type": MEDIA_TYPES[fmt],
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
            }
        manifest["feeds"][feed.path] = {
            "fingerprint": fingerprint,
            "title": feed.title,
            "updated": rfc3339(channel.updated),
            "files": files,
        }
    # Files the last build wrote that this one did not (a feed, a section or a format that
    # is gone): removed, so nobody keeps reading a feed that no longer changes.
    kept = {f["file"] for e in manifest["feeds"].values() for f in e["files"].values()}
    for entry in old["feeds"].values():
        for f in entry.get("files", {}).values():
            if f["file"] not in kept and (out / f["file"]).is_file():
                (out / f["file"]).unlink()
                report.removed.append(f["file"])
                _remove_empty_dirs((out / f["file"]).parent, out)
    for name, data in (
        ("index.opml", opml_bytes(config.publication, config.public_url, feeds, config.site.url)),
        ("autodiscovery.html", autodiscovery_html(config.public_url, feeds)),
    ):
        if write_if_changed(out / name, data):
            report.written.append(name)
        report.files += 1
    write_if_changed(out / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    return report


def _stories(store: ArchiveStore, feed: Feed) -> list[Story]:
    """The feed's stories, newest first, in an order that never depends on the database."""
    stories = store.stories(section=feed.sections, limit=feed.spec.entries)
    # Newest first, as the store gives them; undated stories last, by when first seen.
    return sorted(stories, key=_order)


def _order(story: Story) -> tuple:
    dated = story.published is not None
    moment = story.published or story.first_seen or EPOCH
    return (not dated, -moment.timestamp(), story.url)


def _fingerprint(config: Config, feed: Feed, keys: list[list]) -> str:
    """A hash of everything that goes into a feed's files."""
    data = {
        "v": __version__,
        "feed": [feed.path, feed.title, feed.description, asdict(feed.spec)],
        "site": asdict(config.site),
        "public": config.public_url,
        "hub": config.feeds.hub,
        "stories": keys,
    }
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _channel(
    config: Config,
    feed: Feed,
    stories: list[Story],
    media: Media,
) -> Channel:
    full = feed.spec.content == "full"
    entries = [entry_for(s, full, media) for s in stories]
    return Channel(
        title=text(feed.title) or feed.path,
        description=text(feed.description),
        link=config.site.url,
        self_urls={fmt: f"{config.public_url}/feeds/{feed.file(fmt)}" for fmt in feed.spec.formats},
        language=config.site.language,
        generator=f"syndicate {__version__}",
        author=config.publication,
        updated=_newest(entries),
        logo=config.site.logo or None,
        icon=config.site.icon or None,
        hub=config.feeds.hub or None,
        entries=entries,
    )


def _remove_empty_dirs(directory: Path, root: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def _newest(entries: list[Entry]) -> datetime:
    """The feed's time: its newest dated story's. Undated stories (their time is only when
    we first saw them, a gather's time) count only when no story has a date."""
    dated = [e.updated for e in entries if e.published is not None]
    return max(dated or [e.updated for e in entries], default=EPOCH)


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of the last build in ``out`` (empty when there was none)."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("feeds"), dict):
            return data
    except (OSError, ValueError):
        pass
    return {"version": 1, "feeds": {}}


def _intact(out: Path, entry: dict[str, Any]) -> bool:
    """True when every file of a manifest entry is on disk with its recorded size."""
    try:
        return all((out / f["file"]).stat().st_size == f["size"] for f in entry["files"].values())
    except (OSError, KeyError, TypeError):
        return False


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write atomically (temp file + rename) unless the file already holds these bytes."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # readers see the old file or the new one, never half of one
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True
