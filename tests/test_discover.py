"""Sitemaps and listing pages: what the crawler learns from them."""

from __future__ import annotations

import pytest

from syndicate.sources.discover import page_links, sitemap_entries

pytestmark = pytest.mark.fast

SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://news.example/world/a-story/</loc>
    <lastmod>2024-05-01T10:00:00+00:00</lastmod>
    <image:image><image:loc>https://news.example/img/a.jpg</image:loc></image:image>
    <news:news><news:publication><news:name>X</news:name></news:publication>
      <news:publication_date>2024-05-01T09:00:00+01:00</news:publication_date>
      <news:title>A story</news:title></news:news>
  </url>
  <url><loc>https://news.example/world/b-story/</loc></url>
</urlset>"""


def test_sitemap_entries_keep_page_urls_not_image_urls():
    entries, children = sitemap_entries(SITEMAP)
    assert children == []
    assert [e.url for e in entries] == [
        "https://news.example/world/a-story/",
        "https://news.example/world/b-story/",
    ]
    assert entries[0].published == "2024-05-01T09:00:00+01:00"
    assert entries[0].title == "A story" and entries[0].lastmod.startswith("2024-05-01")


def test_sitemap_index_and_gzip():
    import gzip

    index = (
        b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://news.example/s1.xml</loc></sitemap></sitemapindex>"
    )
    assert sitemap_entries(gzip.compress(index)) == ([], ["https://news.example/s1.xml"])


def test_listing_links_sections_pagination_candidates():
    html = """<html><body><nav class="main-menu"><a href="/news/world/">World</a>
    <a href="/2024/05/01/some-long-story-slug/">A story in the menu</a></nav>
    <main><a href="/news/world/2024/05/01/council-votes-on-budget/">Council</a>
    <a href="/tag/budget/">Budget</a><a href="/author/jane/">Jane</a>
    <a href="/img/x.jpg">img</a><a href="/feed/">feed</a><a href="https://else.example/y">y</a>
    <a href="/news/world/page/2/">Older posts</a></main></body></html>"""
    links = page_links("https://news.example/", html, {"news.example"})
    assert links.sections == ["https://news.example/news/world/"]
    assert links.next_page == "https://news.example/news/world/page/2/"
    assert links.candidates == [
        "https://news.example/2024/05/01/some-long-story-slug/",
        "https://news.example/news/world/2024/05/01/council-votes-on-budget/",
    ]
