"""The `site` source: crawl a news site for its latest stories and their ALSO READ targets.

Discovery: robots.txt → sitemaps (index, Google News), the home page, its section listings
with their pagination (up to max_pages each), and ALSO READ targets (up to follow_depth).
Every URL is fetched once per run, conditionally when we hold what it gave us last time.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

from protego import Protego

from syndicate.errors import FetchError
from syndicate.models import FetchState, GatherReport, Story
from syndicate.project.settings import SiteConfig, SourceConfig
from syndicate.sources import Progress, register
from syndicate.sources.discover import PageLinks, crawlable, is_archive, page_links, sitemap_entries
from syndicate.sources.extract import SiteContext, extract
from syndicate.sources.fetch import Fetcher, Page
from syndicate.sources.html import decode
from syndicate.sources.metadata import parse_date
from syndicate.store import StoryStore
from syndicate.urls import canonical_url, host_of

_HTML = {"text/html", "application/xhtml+xml", ""}
_MAX_SITEMAPS = 200


@register("site")
class SiteSource:
    """Crawl one site; see the module docstring."""

    def __init__(self, cfg: SourceConfig, site: SiteConfig, store: StoryStore) -> None:
        self.cfg = cfg
        self.site = site
        self.store = store
        self.base = canonical_url(cfg.url) or cfg.url  # checked when the config was read
        self.hosts = {host_of(self.base)} | {host_of(f"http://{h}") for h in cfg.allowed_hosts}
        # What SSRF protection never refuses: the configured site's host (www. folded).
        self.own_hosts = {host_of(site.url)}
        self.ctx = SiteContext(
            hosts=self.hosts,
            tz=site.tz,
            name=site.name,
            iframe_hosts={host_of(f"http://{h}") for h in cfg.iframe_hosts},
        )

    def gather(self, report: GatherReport, progress: Progress) -> None:
        """Crawl the site into the store, counting into the report."""
        asyncio.run(_Crawl(self, report, progress).run())


class _Crawl:
    """The state of one crawl run."""

    # Fetch states are written in batches of this many, so a killed run keeps most of them.
    flush_every = 500

    def __init__(self, src: SiteSource, report: GatherReport, progress: Progress) -> None:
        self.src, self.cfg, self.store = src, src.cfg, src.store
        self.report, self.progress = report, progress
        self.states = src.store.all_fetch_states()
        self.known = src.store.story_urls()
        self.dirty: dict[str, FetchState] = {}
        self.seen: set[str] = set()
        self.saved: set[str] = set()  # canonical URLs stored or counted this run
        self.quiet_404: set[str] = set()  # guessed URLs whose absence is no failure
        self.hints: dict[str, datetime] = {}
        self.tasks: set[asyncio.Task] = set()
        self.fetcher = Fetcher(self.cfg, src.hosts, src.own_hosts)
        self.cutoff = (
            datetime.now(UTC) - timedelta(days=self.cfg.max_age_days)
            if self.cfg.max_age_days
            else None
        )

    async def run(self) -> None:
        try:
            sitemaps = await self._robots()
            listed = await self._sitemaps(sitemaps)
            # Sitemaps and the home page's feeds are read before any article is: their
            # dates fill in for pages that declare none.
            self.seen.add(self.src.base)
            home = await self._listing_links(self.src.base)
            if home is not None:
                listed += await self._feed_hints(home.feeds)
            for url in listed:
                self._article(url, depth=0)
            if home is not None:
                self._follow(home, pages_left=1)
            while self.tasks:
                await asyncio.wait(set(self.tasks))
        finally:
            await self.fetcher.close()
            self._flush()
            self.report.requests += self.fetcher.requests

    # -- bookkeeping ---------------------------------------------------------------------
    def _spawn(self, coro, url: str) -> None:
        self.progress.add()

        async def guarded() -> None:
            try:
                await coro
            except Exception as exc:  # one bad page never takes down the run
                self._fail(url, f"unexpected {type(exc).__name__}: {exc}", "skipped")
            finally:
                self.progress.done()
                # Between tasks, never inside one: a state is complete when written.
                if len(self.dirty) >= self.flush_every:
                    self._flush()

        task = asyncio.get_running_loop().create_task(guarded())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _fail(self, url: str, what: str, done: str = "skipped") -> None:
        self.progress.failure(self.report.fail(url, what, done))

    def _known(self, url: str) -> FetchState:
        """What we remember of a URL, for reading only."""
        return self.states.get(url) or FetchState(url=url)

    def _state(self, url: str) -> FetchState:
        """What we remember of a URL, to be changed and written back."""
        st = self.dirty.get(url) or self.states.get(url) or FetchState(url=url)
        self.dirty[url] = st
        self.states[url] = st
        return st

    def _flush(self) -> None:
        if self.dirty:
            self.store.save_fetch_states(self.dirty.values())
            self.dirty = {}

    def _conditional(self, url: str) -> bool:
        # Send validators only when we still hold what the page gave us last time.
        st = self.states.get(url)
        if st is None:
            return False
        if st.kind == "article":
            return st.canonical in self.known
        return st.kind == "page" or st.links is not None

    async def _get(self, url: str, kind: str) -> Page | None:
        """Fetch and remember validators; report and return None on failure."""
        try:
            page = await self.fetcher.get(
                url, self.states, self._conditional, stop_at=lambda u: u in self.seen
            )
        except FetchError as exc:
            st = self._state(url)
            st.status, st.fetched_at = None, datetime.now(UTC)
            self._fail(url, exc.message, exc.hint or "skipped")
            return None
        for src, dst in page.redirects:
            st = self._state(src)
            st.kind, st.redirect_to, st.fetched_at = "redirect", dst, datetime.now(UTC)
        if page.alias_only:
            return page
        self.seen.add(page.final_url)
        if page.status == 304:
            # Nothing to write: the validators and what the page gave us still hold.
            self.report.not_modified += 1
            return page
        st = self._state(page.final_url)
        st.fetched_at = datetime.now(UTC)
        st.status = page.status
        if page.status != 200:
            if not (page.status == 404 and url in self.quiet_404):
                self._fail(url, f"HTTP {page.status}", "skipped")
            return None
        st.kind = kind
        st.etag = page.headers.get("etag")
        st.last_modified = page.headers.get("last-modified")
        return page

    # -- robots and sitemaps -------------------------------------------------------------
    async def _robots(self) -> list[str]:
        url = urljoin(self.src.base, "/robots.txt")
        self.seen.add(url)
        text = ""
        try:
            page = await self.fetcher.get(url, self.states, self._conditional)
        except FetchError as exc:
            self.progress.failure(f"{url}: {exc.message}; crawling without robots.txt")
            page = None
        if page is not None:
            st = self._state(page.final_url)
            if page.status == 304 and st.links:
                text = st.links[0]
            elif page.status == 200:
                text = decode(page.body, page.charset)
                st.kind, st.links, st.status = "robots", [text], 200
                st.etag = page.headers.get("etag")
                st.last_modified = page.headers.get("last-modified")
        rules = Protego.parse(text)
        if self.cfg.respect_robots:
            self.fetcher.robots = rules
            delay = rules.crawl_delay(self.cfg.user_agent)
            if delay:
                self.fetcher.delay = max(self.fetcher.delay, float(delay))
        found = [u for u in (canonical_url(s, url) for s in rules.sitemaps) if u]
        if found:
            return found
        # robots.txt names no sitemap: try the usual place, and say nothing if it is not there.
        guess = urljoin(self.src.base, "/sitemap.xml")
        self.quiet_404.add(guess)
        return [guess]

    async def _sitemaps(self, urls: list[str]) -> list[str]:
        """Read every sitemap (following indexes); return the story URLs to fetch."""
        queue, done, candidates, found = list(urls), set(), [], []
        while queue and len(done) < _MAX_SITEMAPS:
            batch = [u for u in dict.fromkeys(queue) if u not in done][:16]
            queue = [u for u in queue if u not in batch]
            done.update(batch)
            results = await asyncio.gather(*(self._sitemap(u) for u in batch))
            for entries, children in results:
                candidates.extend(entries)
                queue.extend(c for c in children if c not in done)
        for e in candidates:
            url = canonical_url(e["url"])
            if url is None or not crawlable(url, self.src.hosts) or is_archive(url):
                continue
            published = parse_date(e.get("published"), self.src.ctx.tz)
            if published:
                self.hints[url] = published
            lastmod = parse_date(e.get("lastmod"), self.src.ctx.tz)
            newest = published or lastmod
            if self.cutoff and newest and newest < self.cutoff:
                continue
            if self._sitemap_says_unchanged(url, lastmod):
                self.seen.add(url)
                self._unchanged(self.states[url].canonical)
                continue
            found.append(url)
        return found

    def _sitemap_says_unchanged(self, url: str, lastmod: datetime | None) -> bool:
        """With recheck = 'sitemap': a stored story whose lastmod predates our copy of it.

        Saves a request per story, but trusts the sitemap: a page changed without a new
        lastmod is not seen until its lastmod moves.
        """
        if self.cfg.recheck != "sitemap" or lastmod is None:
            return False
        st = self.states.get(url)
        return bool(
            st
            and st.kind == "article"
            and st.canonical in self.known
            and st.fetched_at
            and lastmod <= st.fetched_at
        )

    async def _sitemap(self, url: str) -> tuple[list[dict], list[str]]:
        self.seen.add(url)
        page = await self._get(url, "sitemap")
        if page is None:
            return [], []
        if page.status == 304 and self._known(page.final_url).links is not None:
            links = self._known(page.final_url).links
            return links[0], links[1]
        st = self._state(page.final_url)
        try:
            entries, children = sitemap_entries(page.body)
        except Exception as exc:  # a broken sitemap costs its entries, not the run
            self._fail(url, f"unreadable sitemap ({exc})", "skipped")
            return [], []
        st.links = [[asdict(e) for e in entries], children]
        return st.links[0], st.links[1]

    # -- listings ------------------------------------------------------------------------
    def _allowed(self, url: str) -> bool:
        """Mark a URL as seen; False (and counted) when robots.txt disallows it."""
        if url in self.seen:
            return False
        self.seen.add(url)
        robots = self.fetcher.robots
        if robots is not None and not robots.can_fetch(url, self.cfg.user_agent):
            self.report.disallowed += 1
            return False
        return True

    def _listing(self, url: str, pages_left: int) -> None:
        if not self._allowed(url):
            return
        self._spawn(self._read_listing(url, pages_left), url)

    async def _read_listing(self, url: str, pages_left: int) -> None:
        links = await self._listing_links(url)
        if links is not None:
            self._follow(links, pages_left)

    async def _listing_links(self, url: str) -> PageLinks | None:
        """What a listing page links to (from the store when it answers 304)."""
        page = await self._get(url, "listing")
        if page is None or page.alias_only:
            return None
        if page.status == 304 and self._known(page.final_url).links is not None:
            return PageLinks(*self._known(page.final_url).links)
        st = self._state(page.final_url)
        if page.content_type not in _HTML:
            self._fail(url, f"content type {page.content_type}, not a page", "skipped")
            return None
        text = decode(page.body, page.charset)
        links = await asyncio.to_thread(page_links, page.final_url, text, self.src.hosts)
        st = self._state(page.final_url)  # again: a flush may have happened meanwhile
        st.links = [links.sections, links.next_page, links.candidates, links.feeds]
        return links

    def _follow(self, links: PageLinks, pages_left: int) -> None:
        for section in links.sections:
            self._listing(section, self.cfg.max_pages)
        for cand in links.candidates:
            self._article(cand, depth=0)
        if links.next_page and pages_left > 1:
            self._listing(links.next_page, pages_left - 1)

    async def _feed_hints(self, urls: list[str]) -> list[str]:
        """Publication dates from the site's own RSS/Atom feeds; return their story URLs."""
        found = []
        for url in urls[:3]:
            if not self._allowed(url):
                continue
            page = await self._get(url, "feed")
            if page is None or page.alias_only:
                continue
            if page.status == 304:
                items = self._known(page.final_url).links or []
            else:
                items = await asyncio.to_thread(_feed_items, page.body)
                self._state(page.final_url).links = items
            for link, published in items:
                link = canonical_url(link, url)
                if link is None:
                    continue
                when = parse_date(published, self.src.ctx.tz)
                if when:
                    self.hints.setdefault(link, when)
                if crawlable(link, self.src.hosts) and not is_archive(link):
                    found.append(link)
        return found

    # -- articles ------------------------------------------------------------------------
    def _article(self, url: str, depth: int) -> None:
        if not self._allowed(url):
            return
        self._spawn(self._read_article(url, depth), url)

    async def _read_article(self, url: str, depth: int) -> None:
        page = await self._get(url, "article")
        if page is None or page.alias_only:
            return
        if page.status == 304:
            known = self._known(page.final_url)
            if known.kind == "article":
                self._unchanged(known.canonical)
            return
        st = self._state(page.final_url)
        if page.content_type not in _HTML:
            self._fail(url, f"content type {page.content_type}, not an HTML page", "skipped")
            return
        digest = hashlib.sha256(page.body).hexdigest()
        if digest == st.content_hash and st.canonical in self.known and st.kind == "article":
            self._unchanged(st.canonical)  # same bytes, no validators from the server
            return
        hint = self.hints.get(url) or self.hints.get(page.final_url)
        text = decode(page.body, page.charset)
        result = await asyncio.to_thread(extract, page.final_url, text, self.src.ctx, hint)
        # Taken again after the await: a flush meanwhile may have written the state out.
        st = self._state(page.final_url)
        st.content_hash = digest
        if result.story is None:
            st.kind = "page"
            if result.failed:
                # An article with no body found: never stored empty, always told.
                self._fail(page.final_url, result.reason, "not stored")
            return
        st.kind, st.canonical = "article", result.story.url
        self._store(result.story, depth)

    def _unchanged(self, canonical: str | None) -> None:
        """Count a story as unchanged once, however many of its URLs answered so."""
        if canonical is None or canonical in self.saved:
            return
        self.saved.add(canonical)
        self.report.unchanged += 1

    def _store(self, story: Story, depth: int) -> None:
        if story.url in self.saved:
            return  # reached again under another URL (redirect, canonical alias)
        self.saved.add(story.url)
        if self.cutoff and story.published and story.published < self.cutoff:
            return
        outcome = self.store.save_story(story)
        self.known.add(story.url)
        setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        if depth >= self.cfg.follow_depth:
            return
        for link in story.also_read:
            internal = link.href and not link.external and link.href not in self.known
            if internal and crawlable(link.href, self.src.hosts):
                self._article(link.href, depth + 1)


def _feed_items(body: bytes) -> list[list[str | None]]:
    """(link, published) of each entry of an RSS/Atom feed."""
    import feedparser

    parsed = feedparser.parse(body)
    return [
        [e.get("link"), e.get("published") or e.get("updated")]
        for e in parsed.entries
        if e.get("link")
    ]
