"""Store over any SQLAlchemy URL (SQLite by default, in WAL mode)."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from syndicate.errors import ConfigError, db_reason
from syndicate.models import CrossLink, FetchState, Image, MediaInfo, Story
from syndicate.store import schema as s
from syndicate.store.boundary import translate_errors
from syndicate.store.editions import EditionSQL
from syndicate.store.ledger import LedgerSQL
from syndicate.store.people import PeopleSQL
from syndicate.store.telemetry import TelemetrySQL


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets readers (the web app, `stories`) run while a gather writes.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def title_key(title: str) -> str:
    """A title folded for matching: case, quotes, dashes and spacing do not matter."""
    text = unicodedata.normalize("NFKC", title).casefold()
    for a, b in (
        ("\u2018", "'"),
        ("\u2019", "'"),
        ("\u201c", '"'),
        ("\u201d", '"'),
        ("\u2013", "-"),
        ("\u2014", "-"),
    ):
        text = text.replace(a, b)
    return " ".join(text.split()).strip(" .")


def shown_url(url: str) -> str:
    """The store URL as it may be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even a URL: nothing secret to hide in it
        return url


@translate_errors
class SQLStore(EditionSQL, PeopleSQL, LedgerSQL, TelemetrySQL):
    """The Store protocol (every role of it) over SQLAlchemy Core: the stories, cross-links
    and fetch state here, the other roles from their modules. Every public method raises
    StoreUnavailable when the database is gone, StoreError for other database failures
    (see boundary.py), never SQLAlchemy's own classes."""

    def __init__(self, url: str) -> None:
        shown = shown_url(url)
        self._keys_queries: dict[tuple[bool, bool], Any] = {}
        self._ledger_lock = threading.Lock()
        self._ledger_conn: Connection | None = None
        self._mark_conns: list[Connection] = []  # PostgreSQL: free connections for marks
        try:
            options: dict[str, Any] = {}
            if make_url(url).get_backend_name() == "postgresql":
                # A send marks on one connection per SMTP connection (?pool=N), beside the
                # claims and the queries: room for large pools without waiting.
                options = {"pool_size": 8, "max_overflow": 64, "pool_pre_ping": True}
            self.engine: Engine = create_engine(url, future=True, **options)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise ConfigError(
                f"store.url {shown!r}: {exc}", "use sqlite:///PATH or postgresql+psycopg://…"
            ) from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            self._migrate()
        except SQLAlchemyError as exc:
            # The first connection is where a wrong path, a missing directory or a server
            # that is not there shows up: one line, not a traceback.
            raise ConfigError(
                f"store.url {shown!r}: cannot open the store ({db_reason(exc)})",
                "check that the path or server exists and is writable, or fix [store] url",
            ) from exc

    def _migrate(self) -> None:
        from syndicate.store.migrate import prepare

        prepare(self.engine, shown_url(self.engine.url.render_as_string(hide_password=False)))

    def close(self) -> None:
        """Release connections."""
        self.close_ledger()
        self.engine.dispose()

    # -- fetch state ---------------------------------------------------------------------
    def fetch_states(self, urls: Iterable[str]) -> dict[str, FetchState]:
        """The remembered state of each of these URLs that has one."""
        urls = list(urls)
        out: dict[str, FetchState] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(urls), 500):
                rows = conn.execute(
                    select(s.fetch_state).where(s.fetch_state.c.url.in_(urls[i : i + 500]))
                )
                for r in rows.mappings():
                    out[r["url"]] = FetchState(**r)
        return out

    def all_fetch_states(self) -> dict[str, FetchState]:
        """Every remembered URL (used to resolve redirects and aliases)."""
        with self.engine.connect() as conn:
            return {
                r["url"]: FetchState(**r) for r in conn.execute(select(s.fetch_state)).mappings()
            }

    def save_fetch_states(self, states: Iterable[FetchState]) -> None:
        """Insert or replace the state of these URLs."""
        # Shallow: asdict() would deep-copy every listing's link lists.
        rows = [{f.name: getattr(st, f.name) for f in fields(FetchState)} for st in states]
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(
                delete(s.fetch_state).where(s.fetch_state.c.url.in_([r["url"] for r in rows]))
            )
            conn.execute(insert(s.fetch_state), rows)

    # -- stories -------------------------------------------------------------------------
    def save_story(self, story: Story) -> str:
        """Insert or update a story with its cross-links: 'new', 'updated' or 'unchanged'."""
        now = datetime.now(UTC)
        digest = story.content_hash()
        row = {
            "url": story.url,
            "title": story.title,
            "published": story.published,
            "modified": story.modified,
            "author": story.author,
            "section": story.section,
            "section_name": story.section_name,
            "tags": story.tags,
            "image_url": story.image.url if story.image else None,
            "image_caption": story.image.caption if story.image else None,
            "summary": story.summary,
            "body_text": story.body_text,
            "body_html": story.body_html,
            "language": story.language,
            "content_hash": digest,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            old = conn.execute(
                select(s.stories.c.content_hash).where(s.stories.c.id == story.id)
            ).first()
            if old is not None and old[0] == digest:
                return "unchanged"
            if old is None:
                conn.execute(insert(s.stories).values(id=story.id, first_seen=now, **row))
            else:
                conn.execute(update(s.stories).where(s.stories.c.id == story.id).values(**row))
                conn.execute(delete(s.crosslinks).where(s.crosslinks.c.story_id == story.id))
            if story.also_read:
                conn.execute(
                    insert(s.crosslinks),
                    [
                        {
                            "story_id": story.id,
                            "position": i,
                            "label": c.label,
                            "href": c.href,
                            "target_url": c.target_url,
                            "external": c.external,
                            "after_paragraph": c.after_paragraph,
                        }
                        for i, c in enumerate(story.also_read)
                    ],
                )
        return "new" if old is None else "updated"

    def story_urls(self) -> set[str]:
        """Canonical URLs of every stored story."""
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(select(s.stories.c.url))}

    def story_keys(
        self, section: str | Iterable[str] | None = None, limit: int | None = None
    ) -> list[list]:
        """For the stories ``stories()`` would return, in its order, what tells a change:
        [url, content hash, first seen, section name, [cross-link targets], image URL].
        Cheap: no bodies.
        """
        sections = [section] if isinstance(section, str) else section
        shape = (sections is not None, limit is not None)
        if shape not in self._keys_queries:
            self._keys_queries[shape] = self._story_keys_query(*shape)
        params: dict = {"limit": limit} if limit is not None else {}
        if sections is not None:
            params["sections"] = list(sections)
        rows: dict[str, list] = {}
        with self.engine.connect() as conn:
            result = conn.execute(self._keys_queries[shape], params)
            for story_id, url, digest, first_seen, name, image, position, target in result:
                row = rows.setdefault(story_id, [url, digest, str(first_seen), name, [], image])
                if position is not None:  # a story without cross-links joins one empty row
                    row[4].append(target)
        return list(rows.values())

    @staticmethod
    def _story_keys_query(by_section: bool, limited: bool):
        """One query for story_keys, built once per shape and reused with parameters:
        the chosen ids joined back to their rows and cross-links."""
        t, c = s.stories, s.crosslinks
        ids = select(t.c.id)
        if by_section:
            ids = ids.where(t.c.section.in_(bindparam("sections", expanding=True)))
        ids = ids.order_by(
            t.c.published.is_(None), t.c.published.desc(), t.c.first_seen.desc(), t.c.url
        )
        if limited:
            ids = ids.limit(bindparam("limit", type_=Integer))
        chosen = ids.subquery()
        return (
            select(t.c.id, t.c.url, t.c.content_hash, t.c.first_seen, t.c.section_name)
            .add_columns(t.c.image_url, c.c.position, c.c.target_url)
            .join(chosen, chosen.c.id == t.c.id)
            .outerjoin(c, c.c.story_id == t.c.id)
            .order_by(
                t.c.published.is_(None),
                t.c.published.desc(),
                t.c.first_seen.desc(),
                t.c.url,
                c.c.position,
            )
        )

    def _listing(self, section, since: datetime | None, limit: int | None):
        """The ids of stories, newest first (undated last, by when first seen)."""
        t = s.stories
        q = select(t.c.id)
        if isinstance(section, str):
            q = q.where(t.c.section == section)
        elif section is not None:
            q = q.where(t.c.section.in_(list(section)))
        if since:
            q = q.where(
                or_(t.c.published >= since, (t.c.published.is_(None)) & (t.c.first_seen >= since))
            )
        q = q.order_by(
            t.c.published.is_(None), t.c.published.desc(), t.c.first_seen.desc(), t.c.url
        )
        return q.limit(limit) if limit else q

    def stories(
        self,
        section: str | Iterable[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Story]:
        """Stored stories, newest first (undated ones by when first seen), with cross-links.

        ``section`` is one section's slug or several.
        """
        # Pick the ids first (the listing index covers this), then read only those rows:
        # sorting whole rows, bodies and all, is what makes "the latest 50" slow.
        q = self._listing(section, since, limit)
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(q)]
            return [story for story, _ in self._by_ids(conn, ids)]

    def _by_ids(self, conn, ids: list[str]) -> list[tuple[Story, str]]:
        """The stories with these ids, in this order, with their stored content hashes."""
        t = s.stories
        found = {}
        for i in range(0, len(ids), 500):
            for r in conn.execute(select(t).where(t.c.id.in_(ids[i : i + 500]))).mappings():
                found[r["id"]] = r
        rows = [found[i] for i in ids if i in found]
        links: dict[str, list[CrossLink]] = {}
        for i in range(0, len(ids), 500):
            for c in conn.execute(
                select(s.crosslinks)
                .where(s.crosslinks.c.story_id.in_(ids[i : i + 500]))
                .order_by(s.crosslinks.c.story_id, s.crosslinks.c.position)
            ).mappings():
                links.setdefault(c["story_id"], []).append(
                    CrossLink(
                        label=c["label"],
                        href=c["href"],
                        external=c["external"],
                        target_url=c["target_url"],
                        position=c["position"],
                        after_paragraph=c["after_paragraph"],
                    )
                )
        return [(_story(r, links.get(r["id"], [])), r["content_hash"]) for r in rows]

    def resolve_crosslinks(self) -> int:
        """Point every cross-link at its stored target; return how many links there are.

        A link's href is followed through remembered redirects and the canonical URL its page
        was stored under; a link with no href is matched by title. Unresolvable internal links
        keep their href as the best guess (text-only ones stay None).
        """
        states = self.all_fetch_states()
        with self.engine.begin() as conn:
            titles: dict[str, str] = {}
            urls = set()
            for url, title in conn.execute(select(s.stories.c.url, s.stories.c.title)):
                titles.setdefault(title_key(title), url)
                urls.add(url)
            rows = list(conn.execute(select(s.crosslinks)).mappings())
            for r in rows:
                if r["external"]:
                    target = r["href"]
                elif r["href"]:
                    target = _follow(r["href"], states, urls)
                else:
                    target = titles.get(title_key(r["label"]))
                if target != r["target_url"]:
                    conn.execute(
                        update(s.crosslinks)
                        .where(
                            (s.crosslinks.c.story_id == r["story_id"])
                            & (s.crosslinks.c.position == r["position"])
                        )
                        .values(target_url=target)
                    )
        return len(rows)

    def sections(self) -> dict[str, str]:
        """Every stored section: slug → display name (the most common one)."""
        t = s.stories
        q = (
            select(t.c.section, t.c.section_name, func.count())
            .where(t.c.section.is_not(None))
            .group_by(t.c.section, t.c.section_name)
            .order_by(t.c.section, func.count().desc(), t.c.section_name)
        )
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for slug, name, _ in conn.execute(q):
                out.setdefault(slug, name or slug)
        return out

    def media(self, urls: Iterable[str]) -> dict[str, MediaInfo]:
        """What is known of these image URLs (those probed before)."""
        urls = list(dict.fromkeys(urls))
        out: dict[str, MediaInfo] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(urls), 500):
                q = select(s.media).where(s.media.c.url.in_(urls[i : i + 500]))
                for r in conn.execute(q).mappings():
                    out[r["url"]] = MediaInfo(**r)
        return out

    def save_media(self, infos: Iterable[MediaInfo]) -> None:
        """Insert or replace what is known of some image URLs."""
        rows = [asdict(i) for i in infos]
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(s.media).where(s.media.c.url.in_([r["url"] for r in rows])))
            conn.execute(insert(s.media), rows)


def _follow(url: str, states: dict[str, FetchState], stored: set[str]) -> str:
    """Follow redirects and canonical aliases from a link's URL to a stored story's URL."""
    seen = set()
    while url not in stored and url not in seen:
        seen.add(url)
        st = states.get(url)
        if st is None:
            break
        nxt = st.redirect_to or st.canonical
        if not nxt:
            break
        url = nxt
    return url


def _story(r, links: list[CrossLink]) -> Story:
    return Story(
        url=r["url"],
        title=r["title"],
        published=r["published"],
        modified=r["modified"],
        author=r["author"],
        section=r["section"],
        section_name=r["section_name"],
        tags=list(r["tags"] or []),
        image=Image(r["image_url"], r["image_caption"]) if r["image_url"] else None,
        summary=r["summary"],
        body_text=list(r["body_text"] or []),
        body_html=r["body_html"],
        also_read=links,
        language=r["language"],
        first_seen=r["first_seen"],
    )
