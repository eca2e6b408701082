"""The `feed` source: read an RSS or Atom feed (e.g. WordPress's /feed/) with feedparser.

Full text comes from content:encoded (or Atom content) when the feed carries it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import feedparser

from syndicate.errors import FetchError
from syndicate.models import FetchState, GatherReport, Image, Story
from syndicate.project.settings import SiteConfig, SourceConfig
from syndicate.sources import Progress, register
from syndicate.sources.extract import SiteContext, extract_fragment, slugify
from syndicate.sources.fetch import Fetcher
from syndicate.sources.html import parse, text_of
from syndicate.sources.metadata import clean, parse_date
from syndicate.store import StoryStore
from syndicate.urls import canonical_url, host_of


@register("feed")
class FeedSource:
    """Stories from one RSS/Atom feed."""

    def __init__(self, cfg: SourceConfig, site: SiteConfig, store: StoryStore) -> None:
        self.cfg, self.site, self.store = cfg, site, store
        self.url = canonical_url(cfg.url) or cfg.url  # checked when the config was read
        hosts = {host_of(self.url), host_of(site.url)}
        self.own_hosts = {host_of(site.url)}  # never refused as private: the site's own
        hosts |= {host_of(f"http://{h}") for h in cfg.allowed_hosts}
        self.ctx = SiteContext(
            hosts=hosts,
            tz=site.tz,
            name=site.name,
            iframe_hosts={host_of(f"http://{h}") for h in cfg.iframe_hosts},
        )

    def gather(self, report: GatherReport, progress: Progress) -> None:
        """Read the feed and store its entries as stories."""
        body = asyncio.run(self._fetch(report, progress))
        if body is None:
            return
        parsed = feedparser.parse(body)
        if parsed.bozo and not parsed.entries:
            line = report.fail(
                self.url, f"not a readable feed ({parsed.bozo_exception})", "skipped"
            )
            progress.failure(line)
            return
        progress.add(len(parsed.entries))
        for entry in parsed.entries:
            try:
                story = self.story(entry)
            except Exception as exc:  # one bad entry never stops the others
                progress.failure(
                    report.fail(entry.get("link", self.url), f"unreadable entry ({exc})")
                )
                story = None
            if story is not None:
                outcome = self.store.save_story(story)
                setattr(report, outcome, getattr(report, outcome) + 1)
            progress.done()

    async def _fetch(self, report: GatherReport, progress: Progress) -> bytes | None:
        fetcher = Fetcher(self.cfg, self.ctx.hosts, self.own_hosts)
        states = self.store.fetch_states([self.url])
        try:
            page = await fetcher.get(self.url, states)
        except FetchError as exc:
            progress.failure(report.fail(self.url, exc.message, exc.hint or "skipped"))
            return None
        finally:
            await fetcher.close()
            report.requests += fetcher.requests
        st = states.get(self.url) or FetchState(url=self.url)
        st.fetched_at, st.kind = datetime.now(UTC), "feed"
        if page.status == 304:
            report.not_modified += 1
            self.store.save_fetch_states([st])
            return None
        if page.status != 200:
            progress.failure(report.fail(self.url, f"HTTP {page.status}", "skipped"))
            return None
        st.status, st.etag = 200, page.headers.get("etag")
        st.last_modified = page.headers.get("last-modified")
        self.store.save_fetch_states([st])
        return page.body

    def story(self, entry) -> Story | None:
        """One feed entry as a Story (None without a link or title)."""
        link = entry.get("link")
        title = clean(entry.get("title"))
        if not link or not title:
            return None
        url = canonical_url(link, self.url)
        if url is None:
            return None
        content = ""
        if entry.get("content"):
            content = max((c.get("value", "") for c in entry.content), key=len)
        summary_html = entry.get("summary", "")
        paragraphs, links, body_html = extract_fragment(content or summary_html, url, self.ctx)
        terms = [clean(t.get("term")) for t in entry.get("tags", []) if t.get("term")]
        section = terms[0] if terms else None
        summary = text_of(parse(f"<div>{summary_html}</div>")) if summary_html else None
        if summary and summary.endswith("[…]"):
            summary = summary[:-3].rstrip()
        image = None
        media = entry.get("media_content") or entry.get("media_thumbnail") or []
        enclosures = [
            e for e in entry.get("enclosures", []) if str(e.get("type", "")).startswith("image/")
        ]
        if media and media[0].get("url"):
            src = canonical_url(media[0]["url"], url)
            image = Image(src) if src else None
        elif enclosures:
            src = canonical_url(enclosures[0].get("href"), url)
            image = Image(src) if src else None
        return Story(
            url=url,
            title=title,
            published=parse_date(entry.get("published") or entry.get("created"), self.ctx.tz),
            modified=parse_date(entry.get("updated"), self.ctx.tz)
            if entry.get("updated") != entry.get("published")
            else None,
            author=clean(entry.get("author")) or None,
            section=slugify(section) if section else None,
            section_name=section,
            tags=terms[1:],
            image=image,
            summary=summary or (paragraphs[0] if paragraphs else None),
            body_text=paragraphs,
            body_html=body_html,
            also_read=[c for c in links if c.href != url],
        )
