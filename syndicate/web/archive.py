"""The web archive of editions: every public digest's sent editions as web pages.

    /editions/                       every public digest's editions, newest first, paged
    /editions/<digest>/              one digest's
    /editions/<digest>/feed.atom     an Atom feed of one digest's editions
    /editions/<digest>/<slot-date>/  one edition (project/archive.py names the slot-date)

Only digests with ``public = true`` (the default) are shown, and of those only editions
that went out (sendable, at least one copy sent): no draft, held or skipped edition is
ever public. An edition's page is its stored HTML, the very one the email was made from
(render once: no MJML runs per request), with the personal parts left out by
pipeline.public_edition_html. Answers carry a strong ETag (a hash of the bytes) and
answer If-None-Match with 304.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from syndicate import pipeline
from syndicate.models import Edition
from syndicate.project import Project
from syndicate.project.archive import digest_zone, local_day, parse_slot_key, slot_key
from syndicate.project.schedules import Schedule
from syndicate.store import Store
from syndicate.web.people import web_templates

PER_PAGE = 20  # editions on one page of a listing
FEED_ENTRIES = 20  # editions in a digest's Atom feed
HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
_BODY = re.compile(r"<body\b[^>]*>", re.I)
_HEAD_END = re.compile(r"</head>", re.I)
# What the email template marks as for the inbox only ("You get this email because…",
# the View-in-browser line) is hidden on the web page.
_EMAIL_ONLY = "<style>.email-only { display: none !important; }</style>"


def routes(project: Project, store: Store) -> list[Route]:
    """The archive's routes, bound to a project (its digests as of its last reload)."""
    config = project.config
    pages = web_templates(config.project)
    methods = ["GET", "HEAD"]

    def public() -> dict[str, Schedule]:
        return {name: s for name, s in project.digests.items() if s.public}

    def path_of(edition: Edition, digests: dict[str, Schedule]) -> str:
        schedule = digests[edition.schedule]
        return f"/editions/{schedule.name}/{slot_key(schedule, edition.slot, config.site.tz)}/"

    async def listing(request: Request, digests: dict[str, Schedule], one: str = "") -> Response:
        page = _page_number(request)
        if page is None:
            return _not_found(pages, "There is no such page of editions.")
        found, total = await run_in_threadpool(
            store.sent_editions, list(digests), PER_PAGE, (page - 1) * PER_PAGE
        )
        if page > 1 and not found:
            return _not_found(pages, "There is no such page of editions.")
        rows = [
            {
                "title": digests[e.schedule].title,
                "digest": e.schedule,
                "date": _shown_date(e, digests[e.schedule], config.site.tz),
                "iso": e.slot.astimezone(UTC).isoformat(),
                "subject": e.subject,
                "url": path_of(e, digests),
            }
            for e in found
        ]
        base = f"/editions/{one}/" if one else "/editions/"
        html = pages.get_template("editions.html").render(
            site=config.publication,
            language=config.site.language or "en",
            title=f"{digests[one].title}: past editions" if one else "Past editions",
            editions=rows,
            digests=[{"name": n, "title": s.title} for n, s in digests.items()],
            one=one,
            feed=f"{base}feed.atom" if one else "",
            newer=f"{base}?page={page - 1}" if page > 1 else "",
            older=f"{base}?page={page + 1}" if page * PER_PAGE < total else "",
            page=page,
            pages=max(1, -(-total // PER_PAGE)),
        )
        return _conditional(request, html.encode("utf-8"), HTML)

    async def all_editions(request: Request) -> Response:
        return await listing(request, public())

    async def one_digest(request: Request) -> Response:
        digests = public()
        name = request.path_params["digest"]
        if name not in digests:
            return _not_found(pages, "There is no public digest of that name.")
        return await listing(request, {name: digests[name]}, name)

    async def feed(request: Request) -> Response:
        digests = public()
        name = request.path_params["digest"]
        if name not in digests:
            return _not_found(pages, "There is no public digest of that name.")
        found, _ = await run_in_threadpool(store.sent_editions, [name], FEED_ENTRIES)
        body = _atom(
            config.public_url,
            config.publication,
            digests[name],
            found,
            path_of,
            digests,
            config.site.tz,
        )
        return _conditional(request, body, ATOM)

    async def edition_page(request: Request) -> Response:
        digests = public()
        name, key = request.path_params["digest"], request.path_params["key"]
        schedule = digests.get(name)
        wanted = parse_slot_key(key)
        if schedule is None or wanted is None:
            return _not_found(pages, "There is no such edition.")
        day, at = wanted
        tz = digest_zone(schedule, config.site.tz)
        start, end = local_day(day, tz)
        found, _ = await run_in_threadpool(store.sent_editions, [name], 50, 0, start, end)
        match = _matching(found, schedule, key, at, config.site.tz)
        if match is None:
            return _not_found(pages, "There is no such edition.")
        canonical = path_of(match, digests)
        if request.url.path != canonical:  # an old or hand-typed form: one URL each
            return RedirectResponse(canonical, status_code=301)
        edition = await run_in_threadpool(store.edition, match.schedule, match.slot)
        if edition is None:  # deleted in between
            return _not_found(pages, "There is no such edition.")
        html = pipeline.public_edition_html(edition.html, config.public_url + canonical)
        bar = pages.get_template("edition.html").render(
            site=config.publication,
            title=schedule.title,
            date=_shown_date(edition, schedule, config.site.tz),
            archive=f"/editions/{name}/",
        )
        html = _BODY.sub(lambda m: m.group(0) + bar, html, count=1)
        html = _HEAD_END.sub(lambda m: _EMAIL_ONLY + m.group(0), html, count=1)
        return _conditional(request, html.encode("utf-8"), HTML)

    return [
        Route("/editions/", all_editions, methods=methods),
        Route("/editions/{digest}/", one_digest, methods=methods),
        Route("/editions/{digest}/feed.atom", feed, methods=methods),
        Route("/editions/{digest}/{key}/", edition_page, methods=methods),
    ]


def _matching(found: list[Edition], schedule: Schedule, key: str, at, site_tz) -> Edition | None:
    """The edition of that local day a slot-date names: the one whose slot-date it is;
    else, for a time, the one at that local time; else, for a date alone, the day's only
    edition (a link made before the digest's cadence changed)."""
    tz = digest_zone(schedule, site_tz)
    for edition in found:
        if slot_key(schedule, edition.slot, site_tz) == key:
            return edition
    if at is not None:
        for edition in found:
            if edition.slot.astimezone(tz).time() == at:
                return edition
        return None
    return found[0] if len(found) == 1 else None


def _page_number(request: Request) -> int | None:
    """?page=N (1 when absent); None for anything but a whole number from 1 on."""
    text = request.query_params.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        return None
    return int(text)


def _shown_date(edition: Edition, schedule: Schedule, site_tz) -> str:
    """ "Thursday 3 December 2026" (with ", 07:00" when the day has other editions)."""
    local = edition.slot.astimezone(digest_zone(schedule, site_tz))
    shown = f"{local:%A} {local.day} {local:%B %Y}"
    if "-" in slot_key(schedule, edition.slot, site_tz)[10:]:
        shown += f", {local:%H:%M}"
    return shown


def _atom(base: str, publication: str, schedule: Schedule, found, path_of, digests, tz) -> bytes:
    """The Atom feed of a digest's newest editions; deterministic (invariant 5): updated
    is the newest edition's time, never now, and entries keep their order."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    own = f"{base}/editions/{schedule.name}/"
    fg.id(own + "feed.atom")
    fg.title(f"{schedule.title} · {publication}")
    fg.link(href=own + "feed.atom", rel="self", type="application/atom+xml")
    fg.link(href=own, rel="alternate", type="text/html")
    fg.updated(found[0].created_at if found else datetime(1970, 1, 1, tzinfo=UTC))
    for edition in found:
        url = base + path_of(edition, digests)
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.title(edition.subject or schedule.title)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.published(edition.slot)
        entry.updated(edition.created_at or edition.slot)
        entry.summary(f"{schedule.title}, {_shown_date(edition, schedule, tz)}")
    return fg.atom_str(pretty=True)


def _conditional(request: Request, body: bytes, media_type: str) -> Response:
    """200 with a strong ETag of the bytes, or 304 when If-None-Match names it."""
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    tags = {
        t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")
    }
    if etag in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(status_code=200, headers=headers, media_type=media_type)
    return Response(body, headers=headers, media_type=media_type)


def _not_found(pages: Environment, message: str) -> Response:
    html = pages.get_template("page.html").render(title="Not found", message=message)
    return Response(html, status_code=404, media_type=HTML)
