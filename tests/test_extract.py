"""The extractor on markup unlike the fixture site's: no theme classes to lean on."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from syndicate.sources.extract import SiteContext, extract

pytestmark = pytest.mark.fast

CTX = SiteContext(hosts={"news.example"}, tz=ZoneInfo("America/New_York"), name="Daily Example")
URL = "https://news.example/politics/2024/03/02/council-votes-budget/?utm_source=x#top"

PAGE = """<!doctype html><html lang="en"><head>
<title>Council votes budget | Daily Example</title>
<meta property="og:title" content="Council votes budget | Daily Example">
<meta name="description" content="The city council passed the budget late on Friday.">
<link rel="canonical" href="/politics/2024/03/02/council-votes-budget/">
</head><body>
<header class="site-header"><nav><a href="/politics/">Politics</a><a href="/sport/">Sport</a></nav></header>
<main>
<article class="story">
  <header>
    <ul class="crumbs breadcrumb"><li><a href="/">Home</a></li><li><a href="/politics/">Politics</a></li><li><a href="/politics/2024/03/02/council-votes-budget/">Council votes budget</a></li></ul>
    <h1 class="headline">Council votes budget</h1>
    <p class="byline">By <a href="/staff/jane-roe/">Jane Roe</a> · <time datetime="2024-03-02T21:15:00">March 2, 2024</time></p>
  </header>
  <figure class="lead"><img src="/img/council-1200x800.jpg" width="1200" alt="">
    <figcaption>Council members at the vote. (Photo: J. Roe)</figcaption></figure>
  <div class="share-tools"><a href="https://facebook.com/share?u=x">Share</a></div>
  <section class="story-text">
    <p>The city council passed a $2.1&nbsp;billion budget late on Friday, after six hours of debate.</p>
    <p>Members voted 7 to 4, with two abstentions,<br>ending weeks of negotiations over transit funding.</p>
    <p><b>READ ALSO:</b></p>
    <ul><li><a href="/politics/2024/03/01/mayor-outlines-plan/">Mayor outlines plan</a></li>
        <li><a href="https://other.example/story">An outside report</a></li></ul>
    <aside class="newsletter-signup"><p>Sign up for our morning newsletter to get every story first.</p></aside>
    <p>The transit authority will receive an additional $40 million, the largest increase in a decade.</p>
    <blockquote><p>"This is a budget for the people who ride the bus," said the council president.</p></blockquote>
    <p>Also read — <a href="../../01/transit-fares-frozen/?utm_campaign=y">Transit fares frozen</a></p>
    <p>Opponents said the plan relied on optimistic revenue projections.</p>
    <p>Also read: Police overtime under review</p>
  </section>
  <footer><ul class="tags"><li><a rel="tag" href="/tag/budget/">Budget</a></li></ul></footer>
</article>
<section class="related-stories"><h2>More politics</h2><p>A long teaser paragraph about another story that should never appear in this story body at all.</p></section>
</main>
<footer class="site-footer"><p>© Daily Example. All rights reserved, and a long footer line here.</p></footer>
</body></html>"""


def test_visible_page_only():
    story = extract(URL, PAGE, CTX).story
    assert story is not None
    assert story.url == "https://news.example/politics/2024/03/02/council-votes-budget/"
    assert story.title == "Council votes budget"
    assert story.published.isoformat() == "2024-03-02T21:15:00-05:00"
    assert story.author == "Jane Roe"
    assert (story.section, story.section_name) == ("politics", "Politics")
    assert story.tags == ["Budget"]
    assert story.image.url == "https://news.example/img/council-1200x800.jpg"
    assert story.image.caption == "Council members at the vote. (Photo: J. Roe)"
    assert story.summary == "The city council passed the budget late on Friday."
    assert story.body_text == [
        "The city council passed a $2.1 billion budget late on Friday, after six hours of debate.",
        "Members voted 7 to 4, with two abstentions, ending weeks of negotiations over transit "
        "funding.",
        "The transit authority will receive an additional $40 million, the largest increase in "
        "a decade.",
        '"This is a budget for the people who ride the bus," said the council president.',
        "Opponents said the plan relied on optimistic revenue projections.",
    ]
    links = [(c.label, c.href, c.external, c.after_paragraph) for c in story.also_read]
    assert links == [
        (
            "Mayor outlines plan",
            "https://news.example/politics/2024/03/01/mayor-outlines-plan/",
            False,
            2,
        ),
        ("An outside report", "https://other.example/story", True, 2),
        (
            "Transit fares frozen",
            "https://news.example/politics/2024/03/01/transit-fares-frozen/",
            False,
            4,
        ),
        ("Police overtime under review", None, False, 5),
    ]
    assert "newsletter" not in story.body_html and "Share" not in story.body_html
    assert "READ ALSO" not in story.body_html and "Also read" not in story.body_html


def test_json_ld_wins_over_meta_and_page():
    ld = (
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":['
        '{"@type":"Person","@id":"#p1","name":"Ana Diaz"},'
        '{"@type":["NewsArticle"],"headline":"Council votes &amp; passes budget",'
        '"datePublished":"2024-03-02T21:15:00Z","dateModified":"2024-03-03T08:00:00Z",'
        '"author":[{"@id":"#p1"},{"@type":"Person","name":"Bo Lee"}],'
        '"articleSection":["City Hall"],"keywords":["budget","transit"],'
        '"image":[{"@type":"ImageObject","url":"https://news.example/ld.jpg",'
        '"caption":"From JSON-LD"}]}]}</script>'
    )
    story = extract(URL, PAGE.replace("</head>", ld + "</head>"), CTX).story
    assert story.title == "Council votes & passes budget"
    assert story.published.isoformat() == "2024-03-02T21:15:00+00:00"
    assert story.modified.isoformat() == "2024-03-03T08:00:00+00:00"
    assert story.author == "Ana Diaz, Bo Lee"
    assert (story.section, story.section_name) == ("city-hall", "City Hall")
    assert story.tags == ["budget", "transit"]
    assert story.image.url == "https://news.example/ld.jpg"
    assert story.image.caption == "From JSON-LD"


def test_static_pages_are_not_articles():
    page = (
        "<html><head><title>About us</title></head><body><h1>About us</h1>"
        "<div><p>We are a small newsroom that covers the city.</p></div></body></html>"
    )
    result = extract("https://news.example/about/", page, CTX)
    assert result.story is None and "not an article" in result.reason


def test_no_date_anywhere_is_null_not_now():
    page = PAGE.replace('<time datetime="2024-03-02T21:15:00">March 2, 2024</time>', "")
    # An address with its day dates the story (midnight, the site's zone); one without
    # any date leaves it undated rather than dated now.
    story = extract(URL, page, CTX).story
    assert story is not None and story.published is not None
    assert (story.published.date().isoformat(), story.published.hour) == ("2024-03-02", 0)
    undated = "https://news.example/politics/council-votes-budget/"
    story = extract(undated, page.replace("/politics/2024/03/02/", "/politics/"), CTX).story
    assert story is not None and story.published is None


def test_sentences_starting_with_also_are_body_text():
    page = PAGE.replace(
        "<p>Opponents said", "<p>Also read by the clerk was a motion. Opponents said"
    )
    story = extract(URL, page, CTX).story
    assert any(p.startswith("Also read by the clerk") for p in story.body_text)


def test_self_links_and_repeats_are_dropped():
    extra = (
        '<p>ALSO READ: <a href="/politics/2024/03/02/council-votes-budget/">Self</a></p>'
        '<p>ALSO READ: <a href="/politics/2024/03/01/mayor-outlines-plan/">Mayor outlines '
        "plan</a></p>"
    )
    story = extract(
        URL, PAGE.replace("</section>\n  <footer>", extra + "</section><footer>"), CTX
    ).story
    labels = [c.label for c in story.also_read]
    assert "Self" not in labels and labels.count("Mayor outlines plan") == 1
    assert [c.position for c in story.also_read] == list(range(len(story.also_read)))


def test_also_read_boxes_in_other_shapes():
    boxes = (
        '<div class="also-read"><span>ALSO READ</span> <a href="/a/one/">One</a></div>'
        "<h4>Also Read</h4><p><a href='/a/two/'>Two</a></p><p><a href='/a/three/'>Three</a></p>"
        "<p>A normal paragraph closes the list of links and is body text again.</p>"
    )
    page = PAGE.replace("<p>Opponents said", boxes + "<p>Opponents said")
    story = extract(URL, page, CTX).story
    labels = [c.label for c in story.also_read]
    assert labels[3:6] == ["One", "Two", "Three"]
    assert "A normal paragraph closes the list of links and is body text again." in (
        story.body_text
    )
    assert not {"One", "Two", "Three"} & set(story.body_text)


def test_read_more_sentences_stay_body_text():
    extra = (
        '<p>Read more of our coverage of <a href="/tag/budget/">Budget</a>.</p>'
        '<p>Related: <a href="/politics/2024/02/01/older-vote/">An older vote</a></p>'
        '<p>ALSO-READ: <a href="/politics/2024/02/02/x-y-z-w/">Hyphenated form</a></p>'
    )
    page = PAGE.replace("<p>Opponents said", extra + "<p>Opponents said")
    story = extract(URL, page, CTX).story
    assert "Read more of our coverage of Budget." in story.body_text
    labels = [c.label for c in story.also_read]
    assert "An older vote" in labels and "Hyphenated form" in labels and "Budget" not in labels


def test_a_lede_inside_the_body_is_the_summary_not_body_text():
    page = PAGE.replace(
        '<section class="story-text">',
        '<section class="story-text"><p class="article-standfirst">The lede '
        "sentence, set in larger type above the story.</p>",
    )
    page = page.replace(
        '<meta name="description" content="The city council passed the budget late on Friday.">', ""
    )
    story = extract(URL, page, CTX).story
    assert story.summary == "The lede sentence, set in larger type above the story."
    assert story.body_text[0].startswith("The city council passed")
