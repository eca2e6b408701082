"""The web app's subscriber routes: subscribe (double opt-in), confirm, unsubscribe (a page
with a button, and RFC 8058 one-click POST), preferences, and /metrics.

Answers never tell whether an address is subscribed. Tokens are signed and bound to a
subscriber and a digest; a tampered one is refused (400) and an unknown subscriber's (404),
and neither changes anything. A GET never unsubscribes: link scanners only GET.

The pages are Jinja templates (templates/web/ in the project, else the built-in ones), with
autoescape on: digest titles and messages are values the templates escape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from functools import partial
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from syndicate import people, pipeline
from syndicate.errors import SyndicateError
from syndicate.models import SubscriberStatus
from syndicate.project import Project
from syndicate.store import Store
from syndicate.tokens import Tokens

log = logging.getLogger("syndicate.web")
SUBSCRIBE_LIMIT = 5  # requests per IP …
SUBSCRIBE_WINDOW = 600.0  # … in this many seconds


def routes(project: Project, store: Store) -> list[Route]:
    """The routes, bound to a project (its digests as of its last reload) and a store."""
    config = project.config
    tokens = Tokens(project.secret)
    limiter = _PerIP(SUBSCRIBE_LIMIT, SUBSCRIBE_WINDOW)
    # One environment per app: Jinja compiles each template once and caches it.
    pages = web_templates(config.project)
    page = partial(_page, pages)
    answer = partial(_answer, pages)

    def digests() -> dict[str, str]:
        return {name: s.title for name, s in project.digests.items()}

    async def subscribe(request: Request) -> Response:
        ip = request.client.host if request.client else None
        wants_json = "json" in request.headers.get("content-type", "")
        if not limiter.allow(ip or "-"):
            return answer(wants_json, 429, "Too many requests", "Please try again later.")
        try:
            data = await request.json() if wants_json else dict(await request.form())
        except ValueError:
            return answer(wants_json, 400, "Bad request", "Send a form or a JSON object.")
        email, name = str(data.get("email", "")), str(data.get("name", ""))
        wanted = data.get("digest") or data.get("digests") or []
        wanted = [wanted] if isinstance(wanted, str) else [str(w) for w in wanted]
        known = digests()
        chosen = [d for d in wanted if d in known] or list(known)[:1]
        try:
            address = people.normalize_address(email)
        except ValueError:
            return answer(wants_json, 400, "Not an email address", "Check the address.")
        if not chosen:
            return answer(wants_json, 404, "No digest", "There is nothing to subscribe to.")
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(_subscribe, project, store, address, name, chosen, ip)
        # The same answer whether the address was new, pending, active or suppressed.
        return answer(
            wants_json,
            202,
            "Check your inbox",
            "If this address can receive our emails, a confirmation link is on its way.",
        )

    def confirm(request: Request) -> Response:
        found = tokens.read_confirm(request.path_params["token"])
        if found is None:
            return page(400, "Link not valid", "This confirmation link is broken or expired.")
        sub = people.confirm(store, found[0], request.client.host if request.client else None)
        if sub is None:
            return page(404, "Link not valid", "There is nothing to confirm here.")
        return page(200, "Subscribed", "Thank you: your subscription is confirmed.")

    def unsubscribe(request: Request) -> Response:
        token = request.path_params["token"]
        found = tokens.read_unsubscribe(token)
        if found is None:
            return page(400, "Link not valid", "This unsubscribe link is broken.")
        if store.subscriber(found[0]) is None:
            return page(404, "Link not valid", "There is nothing to unsubscribe here.")
        if request.method == "GET":
            # A page with a button: scanners that follow links unsubscribe nobody.
            title = digests().get(found[1], found[1])
            return page(
                200,
                "Unsubscribe",
                f"Stop receiving {title}?",
                template="unsubscribe.html",
                action=f"/unsubscribe/{token}",
                digest=title,
            )
        # RFC 8058 one-click (body List-Unsubscribe=One-Click, no cookie, no CSRF token)
        # and the page's button alike. Idempotent: a second POST changes nothing more.
        people.unsubscribe(store, found[0], found[1])
        return page(200, "Unsubscribed", "You will not receive this digest any more.")

    async def preferences(request: Request) -> Response:
        token = request.path_params["token"]
        found = tokens.read_preferences(token)
        if found is None:
            return page(400, "Link not valid", "This preferences link is broken.")
        from starlette.concurrency import run_in_threadpool

        sub = await run_in_threadpool(store.subscriber, found[0])
        if sub is None:
            return page(404, "Link not valid", "There are no preferences here.")
        known = digests()
        if request.method == "POST":
            form = await request.form()
            chosen = [d for d in form.getlist("digest") if d in known]
            await run_in_threadpool(people.set_preferences, store, sub.id, chosen)
            return page(200, "Saved", "Your preferences are saved.")
        active = sub.status == SubscriberStatus.ACTIVE
        choices = [
            {"name": n, "title": t, "checked": active and n in sub.digests}
            for n, t in known.items()
        ]
        return page(
            200,
            "Your preferences",
            "Which digests would you like?",
            template="preferences.html",
            action=f"/preferences/{token}",
            choices=choices,
        )

    def metrics(request: Request) -> Response:
        return PlainTextResponse(
            _prometheus(store.stats()), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return [
        Route("/subscribe", subscribe, methods=["POST"]),
        Route("/confirm/{token}", confirm, methods=["GET"]),
        Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
        Route("/preferences/{token}", preferences, methods=["GET", "POST"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


def _subscribe(project, store, address, name, chosen, ip) -> None:
    sub, pending = people.subscribe(store, address, name, chosen, confirmed=False, ip=ip)
    if pending:
        # The answer is the same either way: it must not tell what happened to the address.
        try:
            pipeline.send_confirmation(project.config, sub, project.schedule(chosen[0]))
        except SyndicateError as exc:
            log.warning("confirmation to %s not sent: %s", address, exc)


def web_templates(project: Path) -> Environment:
    """The page templates: the project's templates/web/ first, then the built-in ones, so
    a project made before templates/web/ existed (or overriding only page.html) works."""
    return Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(project / "templates" / "web"),
                PackageLoader("syndicate", "project/starter/templates/web"),
            ]
        ),
        # Digest titles come from schedule files and tokens from the URL: always escaped.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _page(
    pages: Environment,
    status: int,
    title: str,
    message: str,
    template: str = "page.html",
    **context: object,
) -> HTMLResponse:
    html = pages.get_template(template).render(title=title, message=message, **context)
    return HTMLResponse(html, status_code=status)


def _answer(
    pages: Environment, wants_json: bool, status: int, title: str, message: str
) -> Response:
    if wants_json:
        return JSONResponse({"status": title, "message": message}, status_code=status)
    return _page(pages, status, title, message)


def _prometheus(stats: dict) -> str:
    lines = []
    for name, (kind, help_, samples) in stats.items():
        lines.append(f"# HELP syndicate_{name} {help_}")
        lines.append(f"# TYPE syndicate_{name} {kind}")
        for labels, value in samples:
            label = ",".join(f'{k}="{v}"' for k, v in labels.items())
            lines.append(
                f"syndicate_{name}{{{label}}} {value}" if label else f"syndicate_{name} {value}"
            )
    return "\n".join(lines) + "\n"


class _PerIP:
    """At most ``limit`` calls per IP in a sliding ``window`` of seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.calls: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, ip: str) -> bool:
        now = time.monotonic()
        with self._lock:
            calls = self.calls[ip]
            while calls and calls[0] < now - self.window:
                calls.popleft()
            if len(calls) >= self.limit:
                return False
            calls.append(now)
            return True
