"""Benchmark `feeds build` on a store of 10,000 generated stories.

Run it from the repository root (syndicate installed, e.g. ``pip install -e .``)::

    python bench/feeds.py                  # 10,000 stories in 8 sections, seed 7
    python bench/feeds.py --stories 2000   # a smaller store
    python bench/feeds.py --repeat 5       # best of 5 runs for each figure (default 3)

What it does, all in this one process:

1. writes a project with ``syndicate init`` into a temporary directory and fills its SQLite
   store with generated stories (8 sections, bodies of 6-12 paragraphs with links, a lead
   image with caption, 0-3 ALSO READ links each); the image sizes are put in the media table
   as a previous build's probes would have left them, so nothing touches the network;
2. **full build**: ``pipeline.build_feeds`` into an empty directory: "all" plus one feed per
   section, RSS + Atom + JSON, 50 entries each (27 feed files, OPML, autodiscovery);
3. **lxml baseline**: the same work done directly: the same store queries and the same entry
   preparation (sanitized content, Also read list), then RSS and Atom trees written with
   plain ``lxml.etree`` and JSON with ``json.dumps``, and the same files written. The ratio
   full build / baseline shows what feedgen and our determinism bookkeeping cost (target:
   at most 2x);
4. **rebuild, nothing changed**: ``build_feeds`` again on the same output (target: under 10%
   of the full build);
5. prints every figure, the two ratios against their targets, and where the time goes.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree

from syndicate import pipeline
from syndicate.feeds.build import _order, write_if_changed
from syndicate.feeds.document import EPOCH, entry_for
from syndicate.feeds.spec import expand, load_feed_specs
from syndicate.models import CrossLink, Image, MediaInfo, Story
from syndicate.project.settings import load_config
from syndicate.store import open_store

SECTIONS = ["world", "politics", "business", "sport", "culture", "science", "health", "opinion"]
WORDS = (
    "council harbour minister report said the would on for a of in to and with new plan "
    "city police market school vote project budget river energy trade court health talks"
).split()
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA = "http://search.yahoo.com/mrss/"


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    return " ".join(words).capitalize() + "."


def fill_store(project: Path, count: int, seed: int) -> None:
    """Put ``count`` generated stories (and their images' sizes) into the project's store."""
    rng = random.Random(seed)
    config = load_config(project)
    store = open_store(config.store_url)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    base = "https://news.example.com"
    media = []
    for i in range(count):
        section = SECTIONS[i % len(SECTIONS)]
        url = f"{base}/{section}/2024/story-{i:05d}/"
        paragraphs = [
            " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))
            for _ in range(rng.randint(6, 12))
        ]
        html = "".join(
            f'<p>{p} <a href="/{section}/2024/story-{rng.randrange(count):05d}/">more</a></p>'
            if j % 3 == 1
            else f"<p>{p}</p>"
            for j, p in enumerate(paragraphs)
        )
        image = f"{base}/img/{i:05d}.jpg"
        media.append(MediaInfo(image, "image/jpeg", rng.randint(20_000, 400_000), 200, start))
        links = [
            CrossLink(
                f"Related story {j}", f"{base}/{section}/2024/story-{rng.randrange(count):05d}/"
            )
            for j in range(rng.randint(0, 3))
        ]
        when = start + timedelta(minutes=17 * i)
        store.save_story(
            Story(
                url=url,
                title=f"Story {i}: " + _sentence(rng)[:60],
                published=when,
                modified=when + timedelta(hours=2) if i % 5 == 0 else None,
                author=f"Reporter {i % 37}",
                section=section,
                section_name=section.title(),
                tags=[rng.choice(WORDS).title() for _ in range(3)],
                image=Image(image, "A caption for the picture"),
                summary=paragraphs[0][:200],
                body_text=paragraphs,
                body_html=html,
                also_read=links,
                first_seen=when,
            )
        )
    store.save_media(media)
    store.resolve_crosslinks()
    store.close()


def baseline(project: Path, out: Path) -> None:
    """The same feeds, written with plain lxml and json (no feedgen, no manifest)."""
    config = load_config(project)
    store = open_store(config.store_url)
    try:
        feeds = expand(load_feed_specs(project), store.sections())
        for feed in feeds:
            stories = sorted(
                store.stories(section=feed.sections, limit=feed.spec.entries), key=_order
            )
            images = [s.image.url for s in stories if s.image]
            media = {u: (m.type, m.length) for u, m in store.media(images).items()}
            entries = [entry_for(s, True, media) for s in stories]
            updated = max((e.updated for e in entries), default=EPOCH)
            self_url = f"{config.public_url}/feeds/{feed.path}"
            write_if_changed(out / feed.file("rss"), _rss(feed.title, self_url, updated, entries))
            write_if_changed(out / feed.file("atom"), _atom(feed.title, self_url, updated, entries))
            write_if_changed(out / feed.file("json"), _json(feed.title, self_url, entries))
    finally:
        store.close()


def _rss(title: str, self_url: str, updated: datetime, entries: list) -> bytes:
    from email.utils import format_datetime

    root = etree.Element(
        "rss", version="2.0", nsmap={"atom": ATOM, "content": CONTENT, "dc": DC, "media": MEDIA}
    )
    ch = etree.SubElement(root, "channel")
    etree.SubElement(ch, "title").text = title
    etree.SubElement(ch, "link").text = "https://news.example.com/"
    etree.SubElement(ch, "description").text = title
    etree.SubElement(ch, f"{{{ATOM}}}link", href=self_url + ".rss", rel="self")
    etree.SubElement(ch, "lastBuildDate").text = format_datetime(updated)
    for e in entries:
        item = etree.SubElement(ch, "item")
        etree.SubElement(item, "title").text = e.title
        etree.SubElement(item, "link").text = e.url
        etree.SubElement(item, "description").text = e.summary
        etree.SubElement(item, f"{{{CONTENT}}}encoded").text = e.content_html
        etree.SubElement(item, "guid", isPermaLink="true").text = e.id
        for c in e.categories:
            etree.SubElement(item, "category").text = c
        if e.author:
            etree.SubElement(item, f"{{{DC}}}creator").text = e.author
        if e.image:
            etree.SubElement(
                item, "enclosure", url=e.image.url, length=str(e.image.length), type=e.image.type
            )
            etree.SubElement(item, f"{{{MEDIA}}}content", url=e.image.url, medium="image")
        if e.published:
            etree.SubElement(item, "pubDate").text = format_datetime(e.published)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _atom(title: str, self_url: str, updated: datetime, entries: list) -> bytes:
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    etree.SubElement(root, f"{{{ATOM}}}id").text = self_url + ".atom"
    etree.SubElement(root, f"{{{ATOM}}}title").text = title
    etree.SubElement(root, f"{{{ATOM}}}updated").text = updated.isoformat()
    etree.SubElement(root, f"{{{ATOM}}}link", href=self_url + ".atom", rel="self")
    for e in entries:
        entry = etree.SubElement(root, f"{{{ATOM}}}entry")
        etree.SubElement(entry, f"{{{ATOM}}}id").text = e.id
        etree.SubElement(entry, f"{{{ATOM}}}title").text = e.title
        etree.SubElement(entry, f"{{{ATOM}}}updated").text = e.updated.isoformat()
        if e.published:
            etree.SubElement(entry, f"{{{ATOM}}}published").text = e.published.isoformat()
        if e.author:
            author = etree.SubElement(entry, f"{{{ATOM}}}author")
            etree.SubElement(author, f"{{{ATOM}}}name").text = e.author
        etree.SubElement(entry, f"{{{ATOM}}}link", href=e.url, rel="alternate")
        if e.image:
            etree.SubElement(
                entry, f"{{{ATOM}}}link", href=e.image.url, rel="enclosure", type=e.image.type
            )
        for r in e.related:
            if r.url:
                etree.SubElement(entry, f"{{{ATOM}}}link", href=r.url, rel="related", title=r.title)
        for c in e.categories:
            etree.SubElement(entry, f"{{{ATOM}}}category", term=c)
        etree.SubElement(entry, f"{{{ATOM}}}summary").text = e.summary
        etree.SubElement(entry, f"{{{ATOM}}}content", type="html").text = e.content_html
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _json(title: str, self_url: str, entries: list) -> bytes:
    items = [
        {
            "id": e.id,
            "url": e.url,
            "title": e.title,
            "content_html": e.content_html,
            "summary": e.summary,
            "image": e.image.url if e.image else None,
            "date_published": e.published.isoformat() if e.published else None,
            "tags": e.categories,
        }
        for e in entries
    ]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": title, "items": items}
    return json.dumps(feed, ensure_ascii=False, indent=2).encode()


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="syndicate-bench-feeds-"))
    try:
        project = tmp / "proj"
        subprocess.run(
            [sys.executable, "-m", "syndicate", "init", str(project), "--site-url",
             "https://news.example.com/", "--name", "Bench News"],
            check=True, capture_output=True,
        )  # fmt: skip
        started = time.perf_counter()
        fill_store(project, args.stories, args.seed)
        print(f"store filled with {args.stories:,} stories in {time.perf_counter() - started:.1f}s")
        config = load_config(project)
        store = open_store(config.store_url)
        fresh = [0]

        def full() -> None:
            fresh[0] += 1
            pipeline.build_feeds(config, store, tmp / f"full-{fresh[0]}")

        def lxml_only() -> None:
            fresh[0] += 1
            baseline(project, tmp / f"base-{fresh[0]}")

        full()  # warm caches and imports once, for both sides
        lxml_only()
        t_full = _best(full, args.repeat)
        t_base = _best(lxml_only, args.repeat)
        out = tmp / "rebuild"
        report = pipeline.build_feeds(config, store, out)
        t_rebuild = _best(lambda: pipeline.build_feeds(config, store, out), args.repeat)
        again = pipeline.build_feeds(config, store, out)
        store.close()
        print(f"feeds: {report.feeds} ({report.files} files); rebuild wrote {len(again.written)}")
        print(f"full build (feedgen + ours)      {t_full * 1000:8.1f} ms")
        print(f"lxml baseline, same work         {t_base * 1000:8.1f} ms")
        print(f"rebuild, nothing changed         {t_rebuild * 1000:8.1f} ms")
        ratio = t_full / t_base
        share = t_rebuild / t_full
        met = {True: "met", False: "NOT met"}
        print(f"full / baseline = {ratio:.2f}x   (target <= 2x: {met[ratio <= 2]})")
        print(f"rebuild / full  = {share:.1%}   (target < 10%: {met[share < 0.10]})")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
