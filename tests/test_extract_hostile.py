"""Pages built to break a parser: each is read as a story or refused in one line, never a
crash, a hang or a silently empty story."""

from __future__ import annotations

import pytest
from support.pages import CTX, P1, P2, P3, TITLE, URL, page, paras, story

from syndicate.sources.extract import extract
from syndicate.sources.html import decode

pytestmark = pytest.mark.fast

BODY = paras(P1, P2, P3)


def test_a_ten_megabyte_page_is_read_whole():
    paragraph = f"<p>{P1} {P2}</p>"
    count = 10_000_000 // len(paragraph) + 1
    html = page(f"<article><h1>{TITLE}</h1>{paragraph * count}</article>")
    assert len(html) > 10_000_000
    s = story(html)
    assert len(s.body_text) == count and s.body_text[-1] == f"{P1} {P2}"


def test_ten_thousand_wrappers_around_the_story_lose_nothing():
    # libxml2 stops at 256 open elements and drops the rest of the page; the story
    # under the wrappers is read all the same, its paragraphs kept apart.
    html = page("<div>" * 10_000 + f"<article><h1>{TITLE}</h1>{BODY}</article>" + "</div>" * 10_000)
    assert story(html).body_text == [P1, P2, P3]


def test_ten_thousand_nested_inline_elements_inside_the_story():
    deep = "<span>" * 10_000 + "deep" + "</span>" * 10_000
    html = page(f"<article><h1>{TITLE}</h1>{BODY}<p>{deep}</p><p>{P3} Again.</p></article>")
    s = story(html)
    assert s.body_text[:3] == [P1, P2, P3] and f"{P3} Again." in s.body_text


def test_broken_bytes_control_characters_and_lone_surrogates():
    raw = page(f"<article><h1>{TITLE}</h1>{BODY}<p>Caf\xe9 \x00\x07\x1b{P3}</p></article>")
    # Latin-1 bytes under a UTF-8 declaration, NULs and escapes, as a broken CMS sends them.
    html = decode(raw.encode("latin-1"), "utf-8") + "\udcff<p>\ud800 tail</p>"
    s = story(html)
    assert s.body_text[:2] == [P1, P2]
    text = " ".join(s.body_text)
    assert P3 in text and not any(ch in text for ch in "\x00\x07\x1b\udcff\ud800")
    assert "\x00" not in s.body_html


def test_a_script_shell_is_refused_in_one_line():
    html = (
        "<!doctype html><html><head><title>App</title></head><body><div id='root'></div>"
        '<script>window.__STATE__ = {"story": "' + "x" * 5000 + '"}</script></body></html>'
    )
    result = extract(URL, html, CTX)
    assert result.story is None and result.reason.startswith("not an article (")
    assert "\n" not in result.reason


def test_the_story_among_several_articles_is_the_one_with_the_headline():
    teasers = "".join(
        f"<article><h2><a href='/world/2024/03/0{i}/other-{i}/'>Other story {i}</a></h2>"
        f"<p>A teaser for the other story number {i}, which is not this page's.</p></article>"
        for i in range(1, 4)
    )
    html = page(f"{teasers}<article><h1>{TITLE}</h1>{BODY}</article>{teasers}")
    assert story(html).body_text == [P1, P2, P3]


def test_an_amp_page_is_read_like_any_other():
    html = (
        "<!doctype html><html amp lang='en'><head><title>" + TITLE + "</title>"
        '<meta property="og:type" content="article"><style amp-custom>p{color:red}</style>'
        "</head><body><article><h1>" + TITLE + "</h1>"
        '<amp-img src="https://news.example/pic.jpg" width="1200" height="800" layout="responsive">'
        "</amp-img>" + BODY + '<amp-ad type="doubleclick" data-slot="/1/x"></amp-ad>'
        "</article></body></html>"
    )
    s = story(html)
    assert s.body_text == [P1, P2, P3]
    assert s.image is not None and s.image.url == "https://news.example/pic.jpg"


def test_a_declared_article_without_a_body_fails_and_says_so():
    html = page(
        f"<article><h1>{TITLE}</h1><div class='share-bar'><a href='/s'>Share</a></div></article>",
        head='<meta property="article:published_time" content="2024-03-02T10:00:00Z">',
    )
    result = extract(URL, html, CTX)
    assert result.story is None and result.failed
    assert result.reason.startswith("no article body found (")


def _deep(inner: str) -> str:
    return page("<div>" * 300 + inner + "</div>" * 300)


def test_deep_pages_with_odd_markup_keep_their_text():
    # Marked sections, entities without ';', unclosed paragraphs, and 20,000 '<' that no
    # '>' closes (Python's HTMLParser alone rescans the page for each: half a minute).
    odd = (
        f"<article><h1>{TITLE}</h1><p>AT&T and a&b &amp; c <![if !IE]> d</p>"
        + "".join(
            f"<p>Paragraph number {i} of a story with unclosed paragraphs." for i in range(50)
        )
        + "</article>"
        + "<a " * 20_000
    )
    s = story(_deep(odd))
    assert s.body_text[0] == "AT&T and a&b & c d"
    assert len(s.body_text) == 51 and s.body_text[-1].startswith("Paragraph number 49 ")


def test_deep_wrappers_of_inline_or_list_tags_leave_the_headline_apart():
    for wrapper in ("<b>", "<blockquote>", "<ul><li>", "<table><tr><td>"):
        s = story(page(wrapper * 300 + f"<article><h1>{TITLE}</h1>{BODY}</article>"))
        assert s.body_text == [P1, P2, P3], wrapper


def test_dates_that_name_no_whole_day_or_no_clock_are_no_dates():
    from zoneinfo import ZoneInfo

    from syndicate.sources.metadata import parse_date, parse_visible_date

    tz = ZoneInfo("Europe/Berlin")
    for value in ("Tuesday", "2024", "10:30", "März 2021", "2024-03-02T10:00:00+25:00"):
        assert parse_date(value, tz) is None and parse_visible_date(value, tz) is None, value
    assert parse_visible_date("Updated 3 hours ago · 2024", tz) is None
    when = parse_date("March 4, 2021 10:00 GMT+3", tz)
    assert when is not None and when.utcoffset().total_seconds() == 3 * 3600
    assert parse_visible_date("4. März 2021", tz).date().isoformat() == "2021-03-04"


def test_a_day_to_come_in_the_address_is_no_publication_date():
    html = page(f"<article><h1>{TITLE}</h1>{BODY}</article>")
    assert story(html, url="https://news.example/report/2090-10-10/outlook/").published is None
