"""Feeds built from the gathered fixture site, read back by feedparser as a real client."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from support.cli import SITE_A, run_cli, stories_json
from support.projects import site_project

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, list[dict]]:
    """site-a gathered into a project and its feeds built: (project, stories as JSON)."""
    from serve_site import serve

    tmp = tmp_path_factory.mktemp("feeds")
    base, server = serve(str(SITE_A))
    try:
        project = site_project(tmp, base.rstrip("/"))
        cfg = project / "syndicate.toml"
        cfg.write_text(
            cfg.read_text().replace('public_url = ""', 'public_url = "https://feeds.example.org/"')
        )
        run_cli("gather", project=project)
        proc = run_cli("feeds", "build", project=project, check=0)
    finally:
        server.stop()
    assert "written" in proc.stdout
    return project, stories_json(project)


def _out(project: Path) -> Path:
    return project / "public" / "feeds"


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def test_every_file_is_written_with_index_and_autodiscovery(built):
    project, stories = built
    out = _out(project)
    sections = {s["section"] for s in stories if s["section"]}
    for fmt in ("rss", "atom", "json"):
        assert (out / f"all.{fmt}").is_file()
        for section in sections:
            assert (out / "sections" / f"{section}.{fmt}").is_file()
    opml = etree.parse(str(out / "index.opml")).getroot()
    urls = {o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")}
    assert "https://feeds.example.org/feeds/all.rss" in urls
    assert {f"https://feeds.example.org/feeds/sections/{s}.rss" for s in sections} <= urls
    snippet = (out / "autodiscovery.html").read_text()
    assert snippet.count("<link rel=") == 3 * (1 + len(sections))
    assert 'type="application/feed+json"' in snippet


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feedparser_reads_every_entry_as_stored(built, fmt):
    project, stories = built
    parsed = feedparser.parse(str(_out(project) / f"all.{fmt}"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    by_url = {s["url"]: s for s in stories}
    assert len(parsed.entries) == len(stories)  # 40 stories, under the limit of 50
    for entry in parsed.entries:
        story = by_url[entry.link]
        assert entry.id == story["url"]
        assert entry.title == story["title"]
        if story["published"]:
            assert entry.published_parsed is not None
            got = parsedate_to_datetime(entry.published) if fmt == "rss" else _dt(entry.published)
            assert got == _dt(story["published"])
        else:
            assert "published" not in entry
        assert entry.get("author") == story["author"]
        terms = [t.term for t in entry.tags]
        assert terms[0] and set(story["tags"]) <= set(terms)
        assert entry.summary == (story["summary"] or story["body_text"][0])
        content = entry.content[0].value
        for para in story["body_text"]:  # plain text, even where it reads like markup
            assert " ".join(para.split()) in _text(content)
        if story["image"]:
            enclosures = entry.get("enclosures", [])
            assert [e.href for e in enclosures] == [story["image"]["url"]]
            assert int(enclosures[0].length) > 0 and enclosures[0].type == "image/jpeg"
            if fmt == "rss":
                assert entry.media_content[0]["url"] == story["image"]["url"]
        related = [link for link in entry.links if link.rel == "related"]
        listed = [a for a in story["also_read"] if a["url"]]
        if fmt == "atom":
            assert [r.href for r in related] == [a["url"] for a in listed]
            for r, a in zip(related, listed, strict=True):
                assert r.title.startswith(a["title"])
                assert r.title.endswith("(external)") == a["external"]
        if story["also_read"]:
            assert "Also read" in content
            for a in story["also_read"]:
                assert " ".join(a["title"].split()) in _text(content)


def _text(html: str) -> str:
    from lxml import html as lhtml

    return " ".join(lhtml.fromstring(f"<div>{html}</div>").text_content().split())


def test_json_feed_carries_the_same_stories(built):
    project, stories = built
    feed = json.loads((_out(project) / "all.json").read_text())
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == "https://feeds.example.org/feeds/all.json"
    by_url = {s["url"]: s for s in stories}
    assert [i["id"] for i in feed["items"]] == [s["url"] for s in stories]  # newest first
    for item in feed["items"]:
        story = by_url[item["url"]]
        assert item["title"] == story["title"]
        if story["published"]:
            assert _dt(item["date_published"].replace("Z", "+00:00")) == _dt(story["published"])
        if story["image"]:
            assert item["image"] == story["image"]["url"]
            assert item["attachments"][0]["size_in_bytes"] > 0
        links = item.get("_also_read", {}).get("links", [])
        assert [(x["title"], x["url"], x["external"]) for x in links] == [
            (a["title"], a["url"], a["external"]) for a in story["also_read"]
        ]


def test_feed_times_come_from_stories_never_now(built):
    project, stories = built
    root = etree.parse(str(_out(project) / "sections" / "world.atom")).getroot()
    world = [s for s in stories if s["section"] == "world"]
    newest = max(_dt(s["modified"] or s["published"]) for s in world if s["published"])
    assert _dt(root.findtext(f"{ATOM}updated")) == newest
    rss = etree.parse(str(_out(project) / "sections" / "world.rss")).getroot()
    assert parsedate_to_datetime(rss.findtext("channel/lastBuildDate")) == newest
    # Entries newest first, as the store orders them.
    ids = [e.findtext(f"{ATOM}id") for e in root.iter(f"{ATOM}entry")]
    assert ids == [s["url"] for s in world]


def test_atom_links_keep_rel_type_and_length(built):
    """feedgen 1.0.0 drops rel/type/length from entry links; ours must not."""
    project, _ = built
    root = etree.parse(str(_out(project) / "all.atom")).getroot()
    rels = [link.get("rel") for link in root.iter(f"{ATOM}link")]
    assert rels.count("self") == 1 and "related" in rels and "enclosure" in rels
    assert None not in rels
    for link in root.iter(f"{ATOM}link"):
        if link.get("rel") == "enclosure":
            assert link.get("type") == "image/jpeg" and int(link.get("length")) > 0


def test_validate_passes_built_feeds_and_names_each_problem(built, tmp_path):
    project, _ = built
    ok = run_cli("feeds", "validate", project=project, check=0)
    assert "0 problems" in ok.stdout
    broken = tmp_path / "broken"
    shutil.copytree(_out(project), broken)
    rss = (broken / "all.rss").read_text()
    rss = re.sub(r"<pubDate>[^<]+</pubDate>", "<pubDate>2023-09-17 10:00</pubDate>", rss, count=1)
    rss = rss.replace('length="', 'length="-', 1)
    (broken / "all.rss").write_text(rss)
    atom = (broken / "all.atom").read_text().replace('rel="self"', 'rel="alternate"', 1)
    (broken / "all.atom").write_text(atom)
    (broken / "all.json").write_text('{"version": "1"}')
    bad = run_cli("feeds", "validate", "--out", str(broken), project=project)
    assert bad.returncode == 1
    err = bad.stderr
    assert "all.rss: item 1: <pubDate> '2023-09-17 10:00' is not an RFC 822 date" in err
    assert "enclosure length '-" in err
    assert 'all.atom: feed: 0 link rel="self"; there must be one' in err
    assert "all.json: version is '1'" in err
    empty = run_cli("feeds", "validate", "--out", str(tmp_path / "none"), project=project)
    assert empty.returncode == 2 and "feeds build" in empty.stderr


def test_building_twice_gives_the_same_bytes_and_leaves_files_alone(built):
    project, _ = built
    out = _out(project)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    again = run_cli("feeds", "build", project=project, check=0)
    assert " 0 written" in again.stdout, again.stdout
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}
    assert after == before
    # Forced: the fingerprints forgotten, every feed rendered again; still the same bytes.
    (out / ".manifest.json").unlink()
    forced = run_cli("feeds", "build", project=project, check=0)
    assert " 0 written" in forced.stdout, forced.stdout
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert {p: b for p, (b, _) in before.items()} == after


def test_feed_definition_errors_name_file_and_key(built, tmp_path):
    project, _ = built
    other = tmp_path / "proj"
    shutil.copytree(project, other)
    (other / "feeds" / "broken.toml").write_text('title = "X"\nentires = 10\nformats = ["rdf"]\n')
    proc = run_cli("feeds", "build", project=other)
    assert proc.returncode == 2
    assert "broken.toml: unknown key 'entires'" in proc.stderr
    assert "did you mean 'entries'" in proc.stderr
