"""The web app (Starlette): the built feeds with conditional GET and gzip, the images the
project keeps for its emails (/media/), /healthz, the subscriber routes of
web/people.py (subscribe, confirm, unsubscribe, preferences, metrics) and the archive of
editions of web/archive.py (/editions/).

Feeds are served from the files `feeds build` wrote, never rendered per request, so any
static host could serve them too; this app adds what readers rely on: exact content
types, a strong ETag per representation, Last-Modified, 304s, HEAD and gzip.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from dataclasses import dataclass
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from syndicate.errors import StoreError, StoreUnavailable
from syndicate.models import one_line
from syndicate.project import Project
from syndicate.web.sockets import listen_socket

CONTENT_TYPES = {
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_GZIP_MIN = 860  # below about one packet, compressing saves nothing


@dataclass
class _Cached:
    key: tuple[int, int]  # (mtime_ns, size): a rewritten file is read again
    body: bytes
    etag: str
    last_modified: str
    gzipped: bytes | None = None


class FeedFiles:
    """Reads the files of one directory (the feeds, the kept images), with their
    validators, cached by mtime; only files with a suffix of ``types``."""

    def __init__(self, root: Path, types: dict[str, str] = CONTENT_TYPES) -> None:
        self.root = root
        self.types = types
        self._cache: dict[Path, _Cached] = {}

    def get(self, rel: str) -> _Cached | None:
        """The file at ``rel`` under the root, or None when there is no such feed."""
        path = (self.root / rel).resolve()
        root = self.root.resolve()
        if path.suffix not in self.types or path.name.startswith(".") or root not in path.parents:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        if not path.is_file():  # a directory named like a feed
            return None
        key = (st.st_mtime_ns, st.st_size)
        cached = self._cache.get(path)
        if cached is None or cached.key != key:
            body = path.read_bytes()
            cached = _Cached(
                key,
                body,
                f'"{hashlib.sha256(body).hexdigest()[:32]}"',
                formatdate(st.st_mtime, usegmt=True),
            )
            self._cache[path] = cached
        return cached


def create_app(project: Project) -> Starlette:
    """The web app for a project. Later features add their routes here."""
    config = project.config
    feed = _files_endpoint(FeedFiles(config.feeds_out), "feed", "/feeds/")
    # Images are compressed already: gzip would only cost time.
    media = _files_endpoint(FeedFiles(config.media_dir, IMAGE_TYPES), "image", "/media/", False)

    async def healthz(request: Request) -> Response:
        # "ok" only when the store answers: a load balancer or a monitor that reads this
        # must not keep sending subscribers to an app that cannot record them.
        problem = await _store_problem(store)
        if problem:
            return PlainTextResponse(f"{problem}\n", status_code=503)
        return PlainTextResponse("ok\n")

    from syndicate.store import open_store
    from syndicate.web.archive import routes as archive_routes
    from syndicate.web.people import routes as people_routes

    store = open_store(config.store_url)
    return Starlette(
        routes=[
            Route("/feeds/{path:path}", feed, methods=["GET", "HEAD"]),
            Route("/media/{path:path}", media, methods=["GET", "HEAD"]),
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            *people_routes(project, store),
            *archive_routes(project, store),
        ],
        lifespan=_closing(store),
    )


def _files_endpoint(files: FeedFiles, what: str, prefix: str, compress: bool = True):
    """A GET/HEAD endpoint serving one directory's files as readers and mail programs
    expect: exact content types, a strong ETag per representation, Last-Modified, 304s
    and (for text) gzip."""

    async def endpoint(request: Request) -> Response:
        rel = request.path_params["path"]
        found = files.get(rel)
        if found is None:
            return PlainTextResponse(f"no {what} at {prefix}{rel}\n", status_code=404)
        use_gzip = compress and len(found.body) >= _GZIP_MIN and _accepts_gzip(request)
        etag = found.etag[:-1] + '-gz"' if use_gzip else found.etag
        headers = {
            "ETag": etag,
            "Last-Modified": found.last_modified,
            "Cache-Control": "public, max-age=300",
            "Vary": "Accept-Encoding",
        }
        if _not_modified(request, found, etag):
            return Response(status_code=304, headers=headers)
        body = found.body
        if use_gzip:
            if found.gzipped is None:
                found.gzipped = gzip.compress(found.body, mtime=0)  # same bytes every time
            body = found.gzipped
            headers["Content-Encoding"] = "gzip"
        media_type = files.types[Path(rel).suffix]
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=media_type)
        return Response(body, headers=headers, media_type=media_type)

    return endpoint


HEALTH_TIMEOUT = 5.0  # seconds the store may take to answer /healthz


async def _store_problem(store) -> str:
    """Why the store cannot serve now, in one line; "" when it answers. Asked in a thread,
    so a database that hangs holds neither the event loop nor the answer past the limit."""
    try:
        await asyncio.wait_for(run_in_threadpool(store.ping), HEALTH_TIMEOUT)
    except TimeoutError:
        return f"the store did not answer within {HEALTH_TIMEOUT:g} s"
    except StoreUnavailable as exc:  # "the store is unavailable (connection refused …)"
        return one_line(exc.message)
    except StoreError as exc:  # a failure of another kind: its first words are enough
        return f"the store failed ({one_line(str(exc))[:200]})"
    return ""


def _closing(store):
    """A lifespan that closes the store when the server stops."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            store.close()

    return lifespan


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            try:
                return not params or float(q) > 0
            except ValueError:
                return True
    return False


def _not_modified(request: Request, found: _Cached, etag: str) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        # Either representation's tag (plain or gzip) names the same content.
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags or found.etag in tags
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
            modified = parsedate_to_datetime(found.last_modified)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:  # asctime and RFC 850 forms carry no zone: they mean GMT
            since = since.replace(tzinfo=UTC)
        return modified <= since
    return False


def serve_app(project: Project, host: str, port: int) -> int:
    """Run the web app with uvicorn until interrupted; return the exit status."""
    import uvicorn

    sock = listen_socket(host, port)
    server = uvicorn.Server(uvicorn.Config(create_app(project), log_level="info"))
    where = f"http://{host}:{sock.getsockname()[1]}/feeds/"
    print(f"serving feeds from {project.config.feeds_out} on {where}", flush=True)
    server.run(sockets=[sock])
    return 0
