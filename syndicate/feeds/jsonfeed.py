"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), written by hand: no well-kept
library exists, and the format is small.

ALSO READ links travel in an extension object on each item, as the spec allows (the key
starts with an underscore): ``"_also_read": {"links": [{"title", "url", "external"}]}``,
where ``url`` is null for a link whose target is unknown. README.md describes it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from syndicate.feeds.document import Channel, Entry

VERSION = "https://jsonfeed.org/version/1.1"


def json_feed_bytes(channel: Channel) -> bytes:
    """The channel as JSON Feed 1.1, keys in a fixed order, UTF-8."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": channel.title,
        "home_page_url": channel.link,
        "feed_url": channel.self_urls["json"],
    }
    if channel.description:
        feed["description"] = channel.description
    if channel.icon or channel.logo:
        feed["icon"] = channel.logo or channel.icon
    if channel.icon:
        feed["favicon"] = channel.icon
    feed["language"] = channel.language
    feed["authors"] = [{"name": channel.author}]
    if channel.hub:
        feed["hubs"] = [{"type": "WebSub", "url": channel.hub}]
    feed["items"] = [_item(e) for e in channel.entries]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _item(e: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {"id": e.id, "url": e.url, "title": e.title}
    item["content_html"] = e.content_html
    if e.summary:
        item["summary"] = e.summary
    if e.image is not None:
        item["image"] = e.image.url
    if e.published:
        item["date_published"] = rfc3339(e.published)
    item["date_modified"] = rfc3339(e.updated)
    if e.author:
        item["authors"] = [{"name": e.author}]
    if e.categories:
        item["tags"] = e.categories
    if e.image is not None:
        attachment: dict[str, Any] = {"url": e.image.url, "mime_type": e.image.type}
        if e.image.caption:
            attachment["title"] = e.image.caption
        if e.image.length:
            attachment["size_in_bytes"] = e.image.length
        item["attachments"] = [attachment]
    if e.related:
        item["_also_read"] = {
            "links": [{"title": r.title, "url": r.url, "external": r.external} for r in e.related],
        }
    return item


def rfc3339(when: datetime) -> str:
    """A date as RFC 3339 in UTC with a Z, the form every JSON Feed reader parses."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
