"""Render an edition once: Jinja → MJML → HTML (mjml-python) → inlined CSS (premailer),
and the plain-text part from its own template.

What differs per subscriber is left as placeholders (PLACEHOLDERS) for personalize.py to
fill; nothing here runs per subscriber. Everything stays offline: premailer never fetches
a stylesheet (an mj-font link would make it try).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
)

from syndicate.errors import SyndicateError
from syndicate.models import Edition
from syndicate.project.schedules import Schedule
from syndicate.project.settings import Config
from syndicate.urls import host_of, media_name

# Filled per subscriber. Letters and underscores only: MJML, premailer and HTML escaping
# leave them alone, in text and in href attributes alike.
NAME = "__SYNDICATE_NAME__"
UNSUBSCRIBE_URL = "__SYNDICATE_UNSUBSCRIBE_URL__"
PREFERENCES_URL = "__SYNDICATE_PREFERENCES_URL__"
PLACEHOLDERS = (NAME, UNSUBSCRIBE_URL, PREFERENCES_URL)


class RenderError(SyndicateError):
    """A template or MJML problem: nothing is sent."""

    exit_code = 2


@dataclass
class Rendered:
    """One edition, rendered: what every subscriber's message is made from."""

    subject: str
    mjml: str
    html: str
    text: str


class Renderer:
    """The project's email templates (templates/email/, falling back to the built-in ones)."""

    def __init__(self, project: Path) -> None:
        self.template_dir = project / "templates" / "email"
        self.env = Environment(
            loader=ChoiceLoader(
                [
                    FileSystemLoader(project / "templates" / "email"),
                    PackageLoader("syndicate", "project/starter/templates/email"),
                ]
            ),
            # Story text is untrusted: escaped in HTML and MJML. The text part is not HTML.
            autoescape=lambda name: name is None or not name.endswith(".txt.j2"),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.calls = {"jinja": 0, "mjml": 0, "premailer": 0}

    def render(self, context: dict[str, Any], template: str, subject: str) -> Rendered:
        """Render the subject, then the MJML and text templates; compile and inline once.

        The templates see the subject as ``edition.subject`` and a preheader that is not
        the subject as ``edition.preheader``: both need the subject rendered first."""
        subject_line = self._subject(subject, context)
        if isinstance(context.get("edition"), dict):
            edition = context["edition"]
            extra = {"subject": subject_line, "preheader": preheader(edition, subject_line)}
            context = {**context, "edition": {**edition, **extra}}
        mjml_source = self._jinja(f"{template}.mjml.j2", context)
        text = self._jinja(f"{template}.txt.j2", context)
        html = self.inline(self.compile(mjml_source, f"{template}.mjml.j2"))
        return Rendered(subject_line, mjml_source, html, text)

    def render_mail(self, template: str, context: dict[str, Any]) -> tuple[str, str]:
        """A one-off mail's (HTML, text) from templates/email/TEMPLATE.mjml.j2 and .txt.j2
        (a confirmation request): compiled and inlined like a digest."""
        html = self.inline(self.compile(self._jinja(f"{template}.mjml.j2", context)))
        return html, self._jinja(f"{template}.txt.j2", context)

    def _jinja(self, name: str, context: dict[str, Any]) -> str:
        self.calls["jinja"] += 1
        try:
            return self.env.get_template(name).render(context)
        except TemplateError as exc:
            raise RenderError(*_template_problem(exc, name)) from exc

    def _subject(self, subject: str, context: dict[str, Any]) -> str:
        try:
            env = self.env.overlay(autoescape=False)
            line = env.from_string(subject).render(context)
        except TemplateError as exc:
            raise RenderError(
                f"digest subject template: {exc}", "fix 'subject' in the schedule file"
            ) from exc
        # A header is one line: newlines from a story title never reach it.
        return " ".join(line.split())

    def compile(self, mjml_source: str, name: str = "MJML") -> str:
        """MJML → HTML with mjml-python; an MJML error names the template, nothing is sent."""
        from mjml import mjml2html

        self.calls["mjml"] += 1
        try:
            return mjml2html(mjml_source, disable_comments=True, include_loader=self._include)
        except Exception as exc:  # mjml-python raises ValueError with MRML's message
            raise RenderError(
                f"{name}: MJML does not compile ({exc})",
                "check the template's MJML; '<' in text must be written &lt;",
            ) from exc

    def _include(self, path: str) -> str:
        """What <mj-include path="…"> reads: a file of templates/email/, nothing outside."""
        target = (self.template_dir / path).resolve()
        if self.template_dir.resolve() not in target.parents or not target.is_file():
            raise ValueError(f"mj-include {path!r}: no such file in {self.template_dir}")
        return target.read_text(encoding="utf-8")

    def inline(self, html: str) -> str:
        """Inline the CSS into style attributes, keeping media queries in <style>."""
        from premailer import Premailer

        self.calls["premailer"] += 1
        return Premailer(
            html,
            allow_network=False,  # never fetch a web-font or stylesheet link
            keep_style_tags=True,  # media queries can only live in <style>
            strip_important=False,
            remove_classes=False,
            disable_validation=True,
            cssutils_logging_level=logging.CRITICAL,
        ).transform()


def _template_problem(exc: TemplateError, name: str) -> tuple[str, str]:
    """(message with template name and line, hint) for a Jinja error."""
    if isinstance(exc, TemplateSyntaxError):
        where = f"{exc.filename or exc.name or name}, line {exc.lineno}"
        return f"template {where}: {exc.message}", "fix the template's syntax at that line"
    # A render-time error: the innermost template frame of the traceback says where.
    where = name
    tb = sys.exc_info()[2] or exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{filename}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return f"template {where}: {exc}", "fix the template at that line"


def edition_context(
    config: Config, schedule: Schedule, edition: Edition, browser_url: str = ""
) -> dict[str, Any]:
    """What the templates see: the edition, its stories as cards, the site, the links.

    ``links.browser`` is the edition's own web page ("View in browser", make.browser_link),
    "" when there is none: the templates then leave the link out."""
    urls = {e.story.url for e in edition.stories}
    tz = config.site.tz
    cards = []
    for e in edition.featured:
        s = e.story
        image = None
        if s.image and s.image.url.startswith(("https://", "http://")):
            image = {"url": _image_src(config, s.image.url), "alt": s.image.caption or s.title}
        also = []
        for link in s.also_read:
            url = link.target_url or link.href
            # A story of this same edition is a card already; a link to nowhere is no link.
            if url and url not in urls and url.startswith(("https://", "http://")):
                also.append({"title": _inert(link.label), "url": url, "external": link.external})
        cards.append(
            {
                "title": _inert(s.title),
                "url": s.url,
                "section": _inert(s.section_name or s.section or ""),
                "author": _inert(s.author or ""),
                "published": _local(s.published, tz),
                "image": image,
                "summary": _inert(s.summary or (s.body_text[0] if s.body_text else "")),
                "updated": e.updated,
                "also_read": also,
            }
        )
    when = edition.window_end.astimezone(tz)
    return {
        "edition": {
            "title": schedule.title,
            "name": schedule.name,
            "date": f"{when:%A} {when.day} {when:%B %Y}",
            "stories": cards,
            "lead": cards[0] if cards else {"title": "", "url": "", "summary": ""},
            "count": len(cards),
            # overflow = "list": the headlines beyond max_stories, as links only.
            "more": [
                {
                    "title": _inert(e.story.title),
                    "url": e.story.url,
                    "section": _inert(e.story.section_name or e.story.section or ""),
                }
                for e in edition.listed
            ],
        },
        "site": site_context(config),
        "subscriber": {"name": NAME},
        "links": {
            "unsubscribe": UNSUBSCRIBE_URL,
            "preferences": PREFERENCES_URL,
            "browser": browser_url,
        },
    }


def _image_src(config: Config, url: str) -> str:
    """Where an email shows a lead image from: the project's own copy, when it keeps one in
    public/media/ (served by the web app at /media/, so it outlives the site's address: the
    demo's sample site is gone when the demo ends), else the site's URL."""
    name = media_name(url)
    if name and (config.media_dir / name).is_file():
        return f"{config.public_url}/media/{name}"
    return url


def site_context(config: Config) -> dict[str, str]:
    """The site as every email template sees it: its name, home page (and its host, the
    link's text), language (the HTML's ``lang``) and the postal address the footer carries
    (one line; empty when unset)."""
    return {
        "name": config.publication,
        "url": config.site.url,
        "host": host_of(config.site.url),  # what a link to the site says: "asianlite.com"
        "language": config.site.language or "und",
        "postal_address": ", ".join(
            line.strip(" ,") for line in config.site.postal_address.splitlines() if line.strip()
        ),
    }


PREHEADER_MAX = 140  # about what inbox lists show after the subject


def preheader(edition: dict[str, Any], subject: str) -> str:
    """The line an inbox shows after the subject: the edition's first three headlines that
    the subject does not already carry, joined with " · " and cut to PREHEADER_MAX at a
    word. Never the subject itself: with no other headline, the lead's lede, else a count."""
    said = subject.casefold()
    titles = [c["title"] for c in edition.get("stories", []) if c["title"]]
    fresh = [t for t in titles if t.casefold() not in said][:3]
    lead = edition.get("lead") or {}
    for candidate in (" · ".join(fresh), lead.get("summary", "")):
        line = _cut(" ".join(candidate.split()), PREHEADER_MAX)
        if line and line.casefold() != said:
            return line
    count = len(titles)
    return f"{count} {'story' if count == 1 else 'stories'} in this edition"


def _cut(text: str, limit: int) -> str:
    """text at most limit characters long, cut at a space with an ellipsis when longer."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ·,;:") + "…"


def _inert(value: str) -> str:
    """Story text that happens to spell a placeholder must not become a subscriber's data."""
    return value.replace("__SYNDICATE_", "__SYNDICATE-") if "__SYNDICATE_" in value else value


def _local(when: datetime | None, tz) -> str:
    return f"{when.astimezone(tz):%d %b %Y, %H:%M}" if when else ""
