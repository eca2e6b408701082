"""Small article pages for the extractor's in-process tests, and the story read from them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from syndicate.sources.extract import SiteContext, extract

CTX = SiteContext(hosts={"news.example"}, tz=ZoneInfo("Asia/Kolkata"), name="Daily Example")
URL = "https://news.example/world/2024/03/02/council-votes-budget/"
URL_MONTH = "https://news.example/2024/03/council-votes-budget/"
TITLE = "Council votes budget"
P1 = "The city council passed a budget late on Friday, after six hours of debate in the hall."
P2 = "Members voted seven to four, with two abstentions, ending weeks of talks over transit."
P3 = "The transit authority will receive an extra forty million, the largest rise in a decade."
BODY = f"<p>{P1}</p><p>{P2}</p><p>{P3}</p>"


def page(body: str, head: str = "", body_attrs: str = "", og_type: str = "article") -> str:
    """A small article page: a title, og:type and whatever body the test needs."""
    og = f'<meta property="og:type" content="{og_type}">' if og_type else ""
    return (
        f"<!doctype html><html lang='en'><head><title>{TITLE} | Daily Example</title>"
        f"{og}{head}</head><body{body_attrs}>{body}</body></html>"
    )


def story(html: str, url: str = URL, ctx: SiteContext = CTX):
    """The extracted story, asserting there is one."""
    result = extract(url, html, ctx)
    assert result.story is not None, result.reason
    return result.story


def paras(*texts: str, tag: str = "p") -> str:
    return "".join(f"<{tag}>{t}</{tag}>" for t in texts)


# 1. Layout and taxonomy classes on the page or the post never blank the body.
