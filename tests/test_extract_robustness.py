"""The extractor on page shapes a reviewer found it mishandling: one small page per defect."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from support.pages import BODY, CTX, P1, P2, P3, TITLE, URL, URL_MONTH, page, paras, story

from syndicate.sources.extract import SiteContext, extract

pytestmark = pytest.mark.fast


def test_layout_classes_on_body_do_not_blank_the_story():
    html = page(
        f"<div class='site'><article><h1>{TITLE}</h1>{paras(P1, P2)}</article></div>",
        body_attrs=" class='single ast-right-sidebar tag-social-media'",
    )
    assert story(html).body_text == [P1, P2]


def test_wordpress_tag_and_category_classes_on_article_are_topics_not_chrome():
    html = page(
        "<div class='content-area right-sidebar'>"
        f"<article class='post tag-meta tag-credit-card category-social-media'>"
        f"<h1>{TITLE}</h1><div class='entry-content'>{paras(P1, P2, P3)}</div></article></div>"
        "<aside class='sidebar'><p>A sidebar teaser paragraph that is long enough to count.</p>"
        "</aside>"
    )
    s = story(html)
    assert s.body_text == [P1, P2, P3]


def test_wordpress_post_classes_on_a_div_wrapper_are_topics_not_chrome():
    html = page(
        f"<h1>{TITLE}</h1><div class='post tag-social-media category-credit-card'>"
        f"{paras(P1, P2)}</div>"
        "<div class='related-posts'><p>A related teaser paragraph, long enough to count.</p></div>"
    )
    assert story(html).body_text == [P1, P2]


def test_byline_and_lead_image_survive_taxonomy_classes():
    html = page(
        "<article class='post tag-social-media'>"
        f"<h1>{TITLE}</h1><p class='byline'>By <a href='/author/jane/'>Jane Roe</a></p>"
        "<figure><img src='/img/lead.jpg' width='800'></figure>"
        f"{paras(P1, P2)}</article>",
        body_attrs=" class='ast-right-sidebar tag-social-media'",
    )
    s = story(html)
    assert s.author == "Jane Roe"
    assert s.image is not None and s.image.url == "https://news.example/img/lead.jpg"


# 2. Text that is not inside a <p> is still the story.


def test_div_paragraphs_are_paragraphs():
    html = page(f"<article><h1>{TITLE}</h1><div class='body'>{paras(P1, P2, P3, tag='div')}</div>")
    s = story(html)
    assert s.body_text == [P1, P2, P3]
    assert s.body_html.count("<p>") == 3


def test_double_br_separates_paragraphs():
    html = page(
        f"<h1>{TITLE}</h1><div class='story'>{P1}<br><br>{P2}<br/>\n<br/>{P3}<br>"
        "which ends on a single line break.</div>"
    )
    s = story(html)
    assert s.body_text == [P1, P2, P3 + " which ends on a single line break."]


def test_double_br_inside_a_paragraph_splits_it():
    html = page(f"<article><h1>{TITLE}</h1><p>{P1}<br><br>{P2}</p><p>{P3}</p></article>")
    assert story(html).body_text == [P1, P2, P3]


def test_loose_text_between_paragraphs_is_kept():
    html = page(
        f"<article><h1>{TITLE}</h1><div class='content'><p>{P1}</p>{P2}"
        f" <em>in full</em>.<p>{P3}</p></div></article>"
    )
    s = story(html)
    assert s.body_text == [P1, P2 + " in full.", P3]
    assert f"<p>{P2} <em>in full</em>.</p>" in s.body_html


def test_a_loose_byline_and_date_are_not_paragraphs():
    html = page(
        f"<article><h1>{TITLE}</h1>By <a href='/author/jane/'>Jane Roe</a> | "
        f"<time datetime='2024-03-02'>March 2, 2024</time>{paras(P1, P2)}</article>"
    )
    s = story(html)
    assert s.body_text == [P1, P2]


# 3. ALSO READ: the link that carries the phrase, boxed lines, and sentences that are not.


def _links(s) -> list[tuple[str, str | None]]:
    return [(c.label, c.href) for c in s.also_read]


def test_also_read_phrase_inside_the_link_keeps_the_link():
    html = page(
        f"<article><h1>{TITLE}</h1><p>{P1}</p>"
        "<p><a href='/world/2024/03/01/mayor/'>ALSO READ: Mayor outlines plan</a></p>"
        f"<p>{P2}</p></article>"
    )
    s = story(html)
    assert _links(s) == [("Mayor outlines plan", "https://news.example/world/2024/03/01/mayor/")]
    assert s.body_text == [P1, P2]


def test_also_read_in_a_promo_or_related_box_is_found():
    html = page(
        f"<article><h1>{TITLE}</h1><p>{P1}</p>"
        "<p class='related-story'>ALSO READ: <a href='/a/one/'>One</a></p>"
        f"<p>{P2}</p>"
        "<div class='inline-promo'>ALSO READ: <a href='/a/two/'>Two</a></div>"
        f"<p>{P3}</p></article>"
    )
    s = story(html)
    assert _links(s) == [
        ("One", "https://news.example/a/one/"),
        ("Two", "https://news.example/a/two/"),
    ]
    assert [c.after_paragraph for c in s.also_read] == [1, 2]
    assert "ALSO READ" not in s.body_html


def test_sentences_that_start_with_also_read_are_not_also_read():
    fine_print = "Also, read the fine print: the levy ends in <a href='/a/levy/'>2026</a>."
    report = "Also read <a href='/a/report/'>the auditor's report</a> published last week."
    html = page(f"<article><h1>{TITLE}</h1><p>{P1}</p><p>{fine_print}</p><p>{report}</p></article>")
    s = story(html)
    assert s.also_read == []
    assert s.body_text == [
        P1,
        "Also, read the fine print: the levy ends in 2026.",
        "Also read the auditor's report published last week.",
    ]


def test_real_also_read_forms_are_still_found():
    forms = [
        "ALSO READ-<a href='/a/1/'>One</a>",
        "ALSO READ: <a href='/a/2/'>Two</a>",
        "Also Read | <a href='/a/3/'>Three</a>",
        "<strong>ALSO READ</strong> – <a href='/a/4/'>Four</a>",
        "READ ALSO: <a href='/a/5/'>Five</a>",
        "Also&nbsp;read <a href='/a/6/'>Six</a>",
    ]
    html = page(f"<article><h1>{TITLE}</h1><p>{P1}</p>{paras(*forms)}<p>{P2}</p></article>")
    s = story(html)
    assert [c.label for c in s.also_read] == ["One", "Two", "Three", "Four", "Five", "Six"]
    assert s.body_text == [P1, P2]


# 8. body_html holds exactly the paragraphs of body_text, plus the story's pictures.


def test_body_html_matches_body_text_when_the_container_is_the_article():
    html = page(
        f"<article><h1>{TITLE}</h1>"
        "By <a href='/author/jane/'>Jane Roe</a> <time>March 2, 2024</time>"
        f"<figure><img src='/img/lead.jpg'><figcaption>The hall.</figcaption></figure>"
        f"<p>{P1}</p><p><b>ALSO READ</b></p>"
        "<ul><li><a href='/a/one/'>One</a></li><li><a href='/a/two/'>Two</a></li></ul>"
        f"<p>{P2}</p>"
        '<blockquote class="twitter-tweet"><p lang="en">A post on the vote, quoted whole '
        "by the page as an embed.</p>&mdash; Someone (@someone) "
        "<a href='https://twitter.com/x/status/1'>March 2, 2024</a></blockquote>"
        '<blockquote class="instagram-media" data-instgrm-permalink="https://instagr.am/p/1">'
        "<div><p>A photo of the vote, posted by the council on its own account.</p></div>"
        f"</blockquote><p>{P3}</p></article>"
    )
    s = story(html)
    assert s.body_text == [P1, P2, P3]
    assert [c.label for c in s.also_read] == ["One", "Two"]
    h = s.body_html
    for leak in (TITLE, "Jane", "March 2", "<ul", "ALSO READ", "quoted whole", "A photo"):
        assert leak not in h, leak
    assert h.replace("\n", "") == (
        '<figure><img src="https://news.example/img/lead.jpg">'
        f"<figcaption>The hall.</figcaption></figure><p>{P1}</p><p>{P2}</p><p>{P3}</p>"
    )


# 4. og:type=article on a static page (Yoast sets it everywhere) does not make a story.

YOAST_GRAPH = (
    '<script type="application/ld+json">{"@context":"https://schema.org","@graph":['
    '{"@type":"WebPage","@id":"https://news.example/about/","name":"About us",'
    '"datePublished":"2020-01-01T00:00:00+00:00"},'
    '{"@type":"WebSite","@id":"https://news.example/#website","name":"Daily Example"},'
    '{"@type":"Organization","@id":"https://news.example/#org","name":"Daily Example"}'
    "]}</script>"
)


def test_static_page_with_og_type_article_and_a_webpage_graph_is_not_a_story():
    about = paras(P1, P2, P3)
    for body_html in (
        f"<h1>About us</h1><div class='entry-content'>{about}</div>",
        f"<article class='page type-page'><h1>About us</h1>{about}</article>",
    ):
        html = page(body_html, head=YOAST_GRAPH, body_attrs=" class='page-template-default'")
        result = extract("https://news.example/about/", html, CTX)
        assert result.story is None, body_html


def test_an_undated_post_of_some_length_is_a_story_but_a_sites_own_page_is_not():
    # No metadata at all, no date: a blog theme's post of about a hundred words.
    post = paras(P1, P2, P3, P1.replace("city", "county"), P2.replace("Members", "Aldermen"), P3)
    html = page(f"<main><h1>{TITLE}</h1><div class='entry-content'>{post}</div></main>", og_type="")
    assert story(html, url="https://news.example/council-votes-budget/").body_text[0] == P1
    long_about = post + post
    for path in ("/about-us/", "/impressum/", "/kontakt.html"):
        html = page(f"<main><h1>About</h1><div class='entry-content'>{long_about}</div></main>")
        result = extract("https://news.example" + path, html.replace("article", "website"), CTX)
        assert result.story is None, path


def test_a_post_with_a_webpage_graph_and_a_date_is_a_story():
    date = '<meta property="article:published_time" content="2024-03-02T10:00:00+00:00">'
    html = page(f"<h1>{TITLE}</h1><div>{paras(P1, P2)}</div>", head=YOAST_GRAPH + date)
    assert story(html, url="https://news.example/council-votes-budget/").body_text == [P1, P2]
    html = page(f"<article><h1>{TITLE}</h1>{paras(P1, P2)}</article>", head=YOAST_GRAPH)
    assert story(html, url="https://news.example/council-votes-budget/").body_text == [P1, P2]


# 5. The visible date is the story's, not the top bar's or a sidebar teaser's.

TICKER = "<div class='topbar'><span class='today-date'>Saturday, 28 November 2026</span></div>"
SIDEBAR = (
    "<aside><article><time datetime='2025-01-01T09:00:00'>1 January 2025</time></article></aside>"
)


def test_visible_date_comes_from_the_story_not_the_top_bar_or_sidebar():
    html = page(
        f"{TICKER}<div class='wrap'><h1>{TITLE}</h1>"
        "<div class='meta'><span class='post-date'>March 2, 2024</span></div>"
        f"<div class='content'>{paras(P1, P2)}</div></div>{SIDEBAR}"
    )
    assert story(html).published.isoformat() == "2024-03-02T00:00:00+05:30"


def test_a_top_bar_date_alone_is_no_date():
    html = page(f"{TICKER}<article><h1>{TITLE}</h1>{paras(P1, P2)}</article>{SIDEBAR}")
    # (An address without a day: the one in URL would date the story, as it should.)
    assert story(html, url=URL_MONTH).published is None


def test_time_without_datetime_is_read_from_its_text():
    html = page(f"<article><h1>{TITLE}</h1><time>March 2, 2024</time>{paras(P1, P2)}</article>")
    assert story(html).published.isoformat() == "2024-03-02T00:00:00+05:30"


# 6. JSON-LD: the page's own article, not the first of a list of related ones.


def _ld(data: str) -> str:
    return f'<script type="application/ld+json">{data}</script>'


def test_json_ld_item_list_of_related_articles_is_not_the_page():
    related = (
        '{"@type":"ItemList","itemListElement":['
        '{"@type":"NewsArticle","headline":"Related one","url":"https://news.example/r1/",'
        '"datePublished":"2020-01-01T00:00:00Z","author":{"name":"Someone Else"}}]}'
    )
    own = (
        '{"@type":"NewsArticle","headline":"Council votes budget",'
        f'"mainEntityOfPage":{{"@id":"{URL}"}},"datePublished":"2024-03-02T10:00:00Z",'
        '"author":{"name":"Jane Roe"}}'
    )
    html = page(f"<h1>{TITLE}</h1>{paras(P1, P2)}", head=_ld(f"[{related},{own}]"))
    s = story(html)
    assert (s.title, s.author) == (TITLE, "Jane Roe")
    assert s.published.isoformat() == "2024-03-02T10:00:00+00:00"


def test_json_ld_article_matching_the_page_url_wins():
    other = '{"@type":"NewsArticle","headline":"Other","url":"https://news.example/other/"}'
    own = f'{{"@type":"NewsArticle","headline":"Council votes budget","@id":"{URL}#article"}}'
    html = page(f"<h1>{TITLE}</h1>{paras(P1, P2)}", head=_ld(f'{{"@graph":[{other},{own}]}}'))
    assert story(html).title == TITLE


def test_a_page_whose_only_articles_are_listed_declares_none():
    listing = (
        '{"@type":"ItemList","itemListElement":[{"@type":"NewsArticle","headline":"One"},'
        '{"@type":"NewsArticle","headline":"Two"}]}'
    )
    html = page(f"<h1>Latest</h1>{paras(P1)}", head=_ld(listing), og_type="website")
    assert extract("https://news.example/latest/", html, CTX).story is None


# 10. JSON-LD values of any shape, and malformed URLs, never crash the page.


def test_json_ld_values_of_odd_shapes():
    odd = (
        '{"@type":"NewsArticle","headline":["Council votes budget","Second headline"],'
        f'"url":["{URL}"],"mainEntityOfPage":{{"@id":["{URL}"]}},'
        '"author":[{"@id":["#a","#b"]},{"name":["Jane Roe"]},{"@id":"#p"},42,null],'
        '"datePublished":["2024-03-02T10:00:00Z"],"dateModified":{"@value":"2024-03-03"},'
        '"articleSection":{"name":"World"},"keywords":[1,"budget",null,{"name":"transit"}],'
        '"image":{"url":["https://news.example/i.jpg"],"caption":{"x":1}},'
        '"description":{"a":"b"},"publisher":[{"name":{"x":1}}]}'
    )
    person = '{"@type":"Person","@id":"#p","name":"Bo Lee"}'
    html = page(f"<h1>{TITLE}</h1>{paras(P1, P2)}", head=_ld(f"[{odd},{person}]"))
    s = story(html)
    assert s.title == TITLE and s.url == URL
    assert s.author == "Jane Roe, Bo Lee"
    assert s.published.isoformat() == "2024-03-02T10:00:00+00:00"
    assert (s.section, s.tags) == ("world", ["1", "budget", "transit"])
    assert s.image.url == "https://news.example/i.jpg"


def test_json_ld_url_as_a_dict_and_deep_nesting():
    deep = "[" * 5000 + "]" * 5000
    ld = f'{{"@type":"NewsArticle","url":{{"@id":"{URL}"}},"mainEntityOfPage":[1]}}'
    html = page(f"<h1>{TITLE}</h1>{paras(P1, P2)}", head=_ld(deep) + _ld(ld))
    assert story(html).url == URL


def test_malformed_urls_cost_the_link_not_the_page():
    bad = "http://[bad/x"
    html = page(
        f"<h1>{TITLE}</h1><p>{P1}</p><p>ALSO READ: <a href='{bad}'>Broken</a></p>"
        f"<p><a href='{bad}'>a link</a> in {P2}</p><img src='{bad}' width='800'>",
        head=f'<link rel="canonical" href="{bad}"><meta property="og:image" content="{bad}">',
    )
    s = story(html)
    assert s.url == URL and s.image is None
    assert [(c.label, c.href) for c in s.also_read] == [("Broken", None)]


# 7. Lazy-loaded pictures: the real address, never a data: placeholder.

GIF = "data:image/gif;base64,R0lGODlhAQABAAAAACw="


def _lead(img: str) -> tuple[str | None, str]:
    s = story(page(f"<article><h1>{TITLE}</h1><figure>{img}</figure>{paras(P1, P2)}</article>"))
    return (s.image.url if s.image else None), s.body_html


def test_lazy_images_give_their_real_address():
    real = "https://news.example/img/lead.jpg"
    for img in (
        f"<img src='{GIF}' data-src='/img/lead.jpg'>",
        f"<img src='{GIF}' data-lazy-src='/img/lead.jpg'>",
        "<img data-original='/img/lead.jpg' width='800'>",
        "<img srcset='/img/small.jpg 400w, /img/lead.jpg 1200w'>",
        f"<picture><source srcset='/img/lead.jpg 2x'><img src='{GIF}'></picture>",
        "<amp-img src='/img/lead.jpg' width='1200' height='800' layout='responsive'></amp-img>",
    ):
        lead, html = _lead(img)
        assert lead == real, img
        assert f'src="{real}"' in html and "data:" not in html, img


def test_a_data_uri_placeholder_is_never_the_picture():
    lead, html = _lead(f"<img src='{GIF}' width='800'>")
    assert lead is None
    assert "<img" not in html and "data:" not in html
    og_image = f'<meta property="og:image" content="{GIF}">'
    s = story(page(f"<h1>{TITLE}</h1>{paras(P1, P2)}", head=og_image))
    assert s.image is None


# 9. The section from the URL: a folder, never the date or the story's slug.


def test_section_from_the_url_path():
    html = page(f"<h1>{TITLE}</h1>{paras(P1, P2)}")
    for url, section in (
        ("https://news.example/2024/05/01/council-votes-budget/", None),
        ("https://news.example/2024/05/01/council-votes-budget", None),
        ("https://news.example/council-votes-budget/", None),
        ("https://news.example/world/2024/03/02/council-votes-budget/", "world"),
        ("https://news.example/2024/world/council-votes-budget.html", "world"),
    ):
        assert story(html, url=url).section == section, url


# 11. Numeric dates are day-first outside the US; a BOM beats a wrong header charset.


def test_numeric_dates_are_day_first_outside_the_us():
    us = SiteContext(hosts={"news.example"}, tz=ZoneInfo("America/New_York"))
    for when, ctx, day in (
        ("<time>02/05/2024</time>", CTX, "2024-05-02"),
        ("<time>02/05/2024</time>", us, "2024-02-05"),
        ("<time>2024/02/05</time>", CTX, "2024-02-05"),
        ("<time datetime='02/05/2024 10:00'>today</time>", CTX, "2024-05-02"),
    ):
        html = page(f"<article><h1>{TITLE}</h1>{when}{paras(P1, P2)}</article>")
        assert story(html, ctx=ctx).published.date().isoformat() == day, (when, ctx.tz)
    declared = '<meta property="article:published_time" content="02/05/2024 10:00">'
    html = page(f"<h1>{TITLE}</h1>{paras(P1, P2)}", head=declared)
    assert story(html).published.isoformat() == "2024-05-02T10:00:00+05:30"


def test_a_utf8_bom_wins_over_the_header_charset():
    from syndicate.sources.html import decode

    raw = "\ufeff<p>Café – naïve</p>".encode()
    assert decode(raw, "iso-8859-1") == "<p>Café – naïve</p>"
    assert decode("<p>Café</p>".encode("utf-16"), "utf-8") == "<p>Café</p>"
    assert decode("<p>Café</p>".encode("latin-1"), "iso-8859-1") == "<p>Café</p>"


def test_a_placeholder_picture_inside_another_is_dropped_once():
    # libxml2 does not know <amp-img> and nests what follows inside it.
    html = page(
        f"<article><h1>{TITLE}</h1><p>{P1}</p><amp-img><img src='{GIF}'><p>{P2}</p>"
        "</amp-img></article>"
    )
    s = story(html)
    assert s.body_text == [P1, P2] and "<img" not in s.body_html and P2 in s.body_html
    html = html.replace("<amp-img>", "<amp-img src='/img/a.jpg'>")
    s = story(html)
    assert s.body_text == [P1, P2] and P2 in s.body_html
    assert s.body_html.count("<img") == 1 and 'src="https://news.example/img/a.jpg"' in s.body_html


def test_a_paragraph_holding_an_embed_is_one_paragraph():
    ctx = SiteContext(hosts={"news.example"}, tz=CTX.tz, iframe_hosts={"youtube.com"})
    embed = "<iframe src='https://www.youtube.com/embed/x'></iframe>"
    html = page(f"<article><h1>{TITLE}</h1><p>{P1} {embed} {P2}</p><p>{P3}</p></article>")
    s = story(html, ctx=ctx)
    assert s.body_text == [f"{P1} {P2}", P3]
    assert '<iframe src="https://www.youtube.com/embed/x"></iframe>' in s.body_html


# 5. Metadata read from the page when JSON-LD and meta tags say nothing.


def test_a_visible_tag_list_gives_the_tags_but_a_sidebar_cloud_does_not():
    tags = (
        "<div class='post-tags'>Tags: <a href='/tag/budget/'>Budget</a>"
        "<a href='/tag/transit/'>#Transit</a></div>"
    )
    cloud = "<aside class='widget'><div class='tags'><a href='/tag/x/'>Sport</a></div></aside>"
    s = story(page(f"<article><h1>{TITLE}</h1>{BODY}{tags}</article>{cloud}"))
    assert s.tags == ["Budget", "Transit"]
    s = story(page(f"<article><h1>{TITLE}</h1>{BODY}</article>{cloud}"))
    assert s.tags == []


def test_the_date_in_the_address_when_the_page_shows_none():
    s = story(page(f"<article><h1>{TITLE}</h1>{BODY}</article>"))
    assert s.published is not None and s.published.date().isoformat() == "2024-03-02"
    assert s.published.utcoffset() == CTX.tz.utcoffset(s.published.replace(tzinfo=None))
    # A year and a month are no day: none is made up.
    s = story(page(f"<article><h1>{TITLE}</h1>{BODY}</article>"), url=URL_MONTH)
    assert s.published is None


def test_a_visible_by_line_gives_the_author():
    s = story(page(f"<article><h1>{TITLE}</h1><p>By Jane Roe | March 2</p>{BODY}</article>"))
    assert s.author == "Jane Roe"
    assert s.body_text == [P1, P2, P3]
    s = story(
        page(f"<article><h1>{TITLE}</h1>{paras('By clicking here you agree.')}{BODY}</article>")
    )
    assert s.author is None


def test_the_section_from_the_breadcrumbs():
    crumbs = (
        "<nav class='breadcrumbs'><a href='/'>Home</a> › <a href='/world/'>World</a> › "
        f"<a href='{URL}'>{TITLE}</a></nav>"
    )
    s = story(page(f"{crumbs}<article><h1>{TITLE}</h1>{BODY}</article>"), url=URL_MONTH)
    assert (s.section, s.section_name) == ("world", "World")


def test_a_sentence_opening_with_by_is_no_byline_and_sidebar_tags_are_no_tags():
    line = "<p>By Friday, the vote was final and the budget passed.</p>"
    cloud = "<aside><a rel='tag' href='/tag/sport/'>Sport</a></aside>"
    s = story(page(f"<article><h1>{TITLE}</h1>{line}{BODY}</article>{cloud}"))
    assert s.author is None and s.tags == []


def test_a_related_grid_under_an_also_read_heading_is_furniture():
    cards = "".join(
        f"<div class='card'><img src='/i{i}.jpg'><h4><a href='/world/2024/03/0{i}/s{i}/'>Other "
        f"story {i}</a></h4><p>An excerpt of the other story number {i}, two lines long at "
        "least so that it reads as a teaser.</p></div>"
        for i in range(1, 4)
    )
    grid = f"<div class='more'><h3>Lesen Sie auch:</h3>{cards}</div>"
    s = story(page(f"<article><h1>{TITLE}</h1>{BODY}{grid}</article>"))
    assert s.body_text == [P1, P2, P3]
    assert not [c for c in s.also_read if c.label.startswith("Other story")]


def test_an_icon_before_the_phrase_does_not_hide_an_also_read_box():
    box = (
        "<aside class='inline-box'><svg><title>Arrow icon</title></svg><span>Also read:</span>"
        " <a href='/world/2024/03/01/earlier-vote/'>An earlier vote</a></aside>"
    )
    s = story(page(f"<article><h1>{TITLE}</h1><p>{P1}</p>{box}<p>{P2}</p></article>"))
    assert [c.label for c in s.also_read] == ["An earlier vote"]
    assert s.body_text == [P1, P2]
