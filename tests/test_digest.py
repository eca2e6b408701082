"""Digests: editions, rendering once through Jinja → MJML → premailer, per-subscriber MIME."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from support.cli import run_cli

from syndicate.digest import make
from syndicate.digest.edition import next_edition
from syndicate.digest.render import Renderer
from syndicate.models import CrossLink, Image, Story, Subscriber
from syndicate.project.schedules import digest_schedule
from syndicate.project.settings import load_config
from syndicate.store import open_store

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("SYNDICATE_REGEN_GOLDEN") == "1"  # rewrite the golden files
NOW = datetime(2024, 5, 10, 6, 0, tzinfo=UTC)
BASE = "https://news.example.com"


def _story(i: int, section: str = "world", **kw) -> Story:
    url = f"{BASE}/2024/{section}/story-{i}/"
    data = {
        "url": url,
        "title": f"Story number {i} about the harbour",
        "published": datetime(2024, 5, 1, 8, 0, tzinfo=UTC) + timedelta(hours=i),
        "author": "A. Reporter",
        "section": section,
        "section_name": section.title(),
        "image": Image(f"{BASE}/img/{i}.jpg", f"Caption {i}"),
        "summary": f"The lede of story {i}, which says what happened & why.",
        "body_text": [f"Body of story {i}."],
        "body_html": f"<p>Body of story {i}.</p>",
        "first_seen": datetime(2024, 5, 1, tzinfo=UTC),
        "also_read": [
            CrossLink("Story number 1 about the harbour", f"{BASE}/2024/world/story-1/"),
            CrossLink("An older story", f"{BASE}/2023/world/older/"),
            CrossLink("Elsewhere", "https://elsewhere.org/x", external=True),
        ],
    }
    data.update(kw)
    return Story(**data)


@pytest.fixture
def project(tmp_path) -> Path:
    """A project whose store holds five stories, with a fixed token key."""
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", f"{BASE}/", "--name", "Harbour News", check=0)
    cfg = project / "syndicate.toml"
    cfg.write_text(
        cfg.read_text().replace('public_url = ""', 'public_url = "https://news.example.com"')
    )
    (project / ".secret-key").write_text("test-key-not-secret\n")
    store = open_store(load_config(project).store_url)
    for i in range(1, 6):
        store.save_story(_story(i))
    store.resolve_crosslinks()
    store.close()
    return project


def _made(project: Path, now: datetime = NOW):
    config = load_config(project, env={})
    store = open_store(config.store_url)
    try:
        return make.preview(config, store, digest_schedule(project, "daily"), now)
    finally:
        store.close()


def _normalize(data: str) -> str:
    data = re.sub(r"==syndicate-[0-9a-f]+", "==syndicate-BOUNDARY", data)
    data = re.sub(r"Message-ID: <[^>]+>", "Message-ID: <ID>", data)
    return re.sub(r"Date: .*", "Date: DATE", data)


@pytest.mark.parametrize("kind", ["html", "txt", "eml"])
def test_golden_files(project, kind):
    made = _made(project)
    reader = Subscriber("reader@example.org", "Rëader Name")
    if kind == "eml":
        data = made.message.compose(reader, now=NOW.timestamp()).decode("ascii")
    else:
        html, text = made.message.personalize(reader)
        data = html if kind == "html" else text
    data = _normalize(data)
    path = GOLDEN / f"digest.{kind}"
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(data.encode("utf-8"))
    assert path.exists(), f"{path} missing: run with SYNDICATE_REGEN_GOLDEN=1 to write it"
    assert data == path.read_bytes().decode("utf-8")


def _parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def test_message_parses_back_with_every_header_and_part(project):
    made = _made(project)
    raw = made.message.compose(Subscriber("Reader@Example.org", "Zoë O'Brien"))
    msg = _parse(raw)
    assert not msg.defects and all(not p.defects for p in msg.walk())
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # plain first, HTML last
    assert str(msg["To"]) == "Zoë O'Brien <Reader@Example.org>"
    assert msg["From"].addresses[0].domain == "news.example.com"
    assert msg["Message-ID"].endswith("@news.example.com>")
    assert msg["Date"].datetime is not None
    assert msg["Subject"] == "Friday 10 May 2024: Story number 5 about the harbour"
    assert msg["List-Id"] == "Daily briefing <daily.news.example.com>"
    unsub = str(msg["List-Unsubscribe"])
    assert re.match(r"<https://news\.example\.com/unsubscribe/[\w.-]+>, <mailto:", unsub)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert len(html.encode()) < 102 * 1024
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("https://", "http://", "mailto:")), href
    images = re.findall(r"<img\b[^>]*>", html)
    assert images and all(re.search(r'alt="[^"]+"', i) for i in images)
    assert all(re.search(r'src="https?://', i) for i in images)
    assert "<script" not in html.lower()
    assert "Hello Zoë O&#x27;Brien" in html or "Hello Zoë O&#39;Brien" in html
    assert "Hello Zoë O'Brien" in text
    # Links listed in the text part, the tokens the same as in the headers.
    token = re.search(r"/unsubscribe/([\w.-]+)", unsub).group(1)
    assert f"Unsubscribe: https://news.example.com/unsubscribe/{token}" in text
    assert f"https://news.example.com/unsubscribe/{token}" in html
    # Responsive: a 600 px layout with a media query kept for phones.
    assert "max-width:600px" in html.replace(" ", "") and "@media" in html


def test_tokens_are_bound_to_subscriber_and_digest(project):
    from syndicate.tokens import Tokens

    made = _made(project)
    a = made.message.urls(Subscriber("a@example.org"))[0].rsplit("/", 1)[1]
    b = made.message.urls(Subscriber("b@example.org"))[0].rsplit("/", 1)[1]
    assert a != b
    tokens = Tokens("test-key-not-secret")
    assert tokens.read_unsubscribe(a) == (Subscriber("a@example.org").id, "daily")
    assert tokens.read_unsubscribe(a[:-2] + "xx") is None
    assert Tokens("another-key").read_unsubscribe(a) is None
    assert tokens.read_preferences(a) is None  # an unsubscribe token is not a preferences one


def test_render_once_personalize_many(project, monkeypatch):
    import mjml
    import premailer

    calls = {"mjml": 0, "premailer": 0}
    real_mjml, real_transform = mjml.mjml2html, premailer.Premailer.transform

    def count_mjml(*a, **kw):
        calls["mjml"] += 1
        return real_mjml(*a, **kw)

    def count_transform(self, *a, **kw):
        calls["premailer"] += 1
        return real_transform(self, *a, **kw)

    monkeypatch.setattr(mjml, "mjml2html", count_mjml)
    monkeypatch.setattr(premailer.Premailer, "transform", count_transform)
    made = _made(project)
    messages = [made.message.compose(Subscriber(f"s{i}@example.org", f"S {i}")) for i in range(50)]
    assert calls == {"mjml": 1, "premailer": 1}
    for i, raw in enumerate(messages):
        msg = _parse(raw)
        assert msg["To"].addresses[0].addr_spec == f"s{i}@example.org"
        assert f"Hello S {i}," in msg.get_body(("plain",)).get_content()
    # The parts, encoded piece by piece, decode to exactly the personalized documents.
    someone = Subscriber("zoe@example.org", "Zoë = O'Brien <&>")
    html, text = made.message.personalize(someone)
    msg = _parse(made.message.compose(someone))
    assert msg.get_body(("html",)).get_content().replace("\r\n", "\n") == html
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == text


def test_hostile_titles_names_and_bodies_stay_inert(project):
    config = load_config(project)
    store = open_store(config.store_url)
    store.save_story(
        _story(
            9,
            title="Evil\r\nBcc: victim@example.org <script>alert(1)</script>",
            summary="<img src=x onerror=alert(1)> lede",
            body_html="<p>x</p><script>alert(2)</script>",
            published=datetime(2024, 5, 9, tzinfo=UTC),
        )
    )
    store.close()
    made = _made(project)
    raw = made.message.compose(Subscriber("r@example.org", "Mallory\r\nBcc: all@example.org ✓"))
    msg = _parse(raw)
    assert not msg.defects
    assert msg["Bcc"] is None
    assert "\n" not in str(msg["Subject"]) and "\r" not in str(msg["Subject"])
    [to] = msg["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Mallory Bcc: all@example.org ✓", "r@example.org")
    html = msg.get_body(("html",)).get_content()
    assert not re.search(r"<script", html, re.I)
    assert not re.search(r"<[^>]*\son\w+=", html)  # no event handler on any real tag
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror" in html  # text, not markup


def test_editions_never_repeat_and_updates_come_back_once(project):
    config = load_config(project)
    store = open_store(config.store_url)
    schedule = digest_schedule(project, "daily")
    try:
        first, created = make.create_edition(config, store, schedule, NOW, NOW)
        assert created and len(first.edition.stories) == 5
        # The same slot again (a second daemon, a retry): the same edition, not a new one.
        again, created = make.create_edition(config, store, schedule, NOW, NOW)
        assert not created and again.edition.id == first.edition.id
        # Nothing new: no edition.
        later = NOW + timedelta(days=1)
        none, created = make.create_edition(config, store, schedule, later, later)
        assert none is None and not created
        # A new story and a changed one: both come, the changed one marked Updated.
        store.save_story(_story(6, published=later - timedelta(hours=1)))
        store.save_story(_story(2, summary="A corrected lede."))
        nxt = later + timedelta(hours=1)
        second, created = make.create_edition(config, store, schedule, nxt, nxt)
        got = [(e.story.url.rsplit("/", 2)[1], e.updated) for e in second.edition.stories]
        assert got == [("story-6", False), ("story-2", True)]
        assert "Updated" in second.rendered.html
        # Changed again: it was re-sent as updated once already, so not a third time.
        store.save_story(_story(2, summary="Corrected twice."))
        third_slot = nxt + timedelta(days=1)
        third = next_edition(store, schedule, third_slot, third_slot)
        assert third.stories == []
    finally:
        store.close()


def test_also_read_skips_stories_of_the_same_edition_and_marks_external(project):
    made = _made(project)
    html, text = made.message.personalize(Subscriber("r@example.org"))
    cards = html.split("Read the story")
    # Story 1 is in this edition: no card lists it under Also read.
    assert all('story-1/">Story number 1' not in c.split("Also read")[-1] for c in cards[1:])
    assert "An older story" in html and "Elsewhere</a> (external)" in html
    assert "Elsewhere (external)" in text


def test_preview_writes_every_kind_and_stores_nothing(project):
    for suffix in ("html", "eml", "txt", "mjml"):
        out = project / f"preview.{suffix}"
        proc = run_cli("digest", "preview", "daily", "--out", str(out), project=project, check=0)
        assert "5 stories" in proc.stdout and out.stat().st_size > 1000
    assert (project / "preview.mjml").read_text().lstrip().startswith(("{#", "<mjml"))
    config = load_config(project)
    store = open_store(config.store_url)
    assert store.last_edition("daily") is None
    store.close()
    unknown = run_cli("digest", "preview", "weekly", project=project)
    assert unknown.returncode == 2 and "digests defined: daily" in unknown.stderr


def test_template_errors_name_the_template_and_line(project):
    (project / "templates" / "email" / "digest.mjml.j2").write_text(
        "<mjml>\n<mj-body>\n{% for s in edition.stories %}\n</mj-body></mjml>\n"
    )
    proc = run_cli("digest", "preview", "daily", "--out", "x.html", project=project)
    assert proc.returncode == 2
    assert "digest.mjml.j2, line" in proc.stderr and "Traceback" not in proc.stderr
    (project / "templates" / "email" / "digest.mjml.j2").write_text(
        "<mjml>\n<mj-body>\n<mj-section><mj-column><mj-text>{{ edition.nope.deeper }}"
        "</mj-text></mj-column></mj-section>\n</mj-body></mjml>\n"
    )
    proc = run_cli("digest", "preview", "daily", "--out", "x.html", project=project)
    assert proc.returncode == 2 and "digest.mjml.j2, line 3" in proc.stderr


def test_renderer_reports_mjml_errors(tmp_path):
    from syndicate.digest.render import RenderError

    with pytest.raises(RenderError, match="MJML does not compile"):
        Renderer(tmp_path).compile("<mjml><mj-body><mj-text>a < b</mj-text></mj-body></mjml>")


def test_a_project_without_email_templates_uses_the_built_in_ones(tmp_path):
    """A project made before templates/email/ existed still renders its emails."""
    renderer = Renderer(tmp_path)
    for name in ("digest.mjml.j2", "digest.txt.j2", "confirm.mjml.j2", "confirm.txt.j2"):
        assert renderer.env.get_template(name).filename.endswith(f"/templates/email/{name}")


def test_mj_include_reads_only_the_project_templates(project):
    from syndicate.digest.render import RenderError

    renderer = Renderer(project)
    (project / "templates" / "email" / "footer.mjml").write_text(
        "<mj-section><mj-column><mj-text>Included footer</mj-text></mj-column></mj-section>"
    )
    source = '<mjml><mj-body><mj-include path="footer.mjml" /></mj-body></mjml>'
    assert "Included footer" in renderer.compile(source)
    with pytest.raises(RenderError):
        renderer.compile('<mjml><mj-body><mj-include path="../syndicate.toml" /></mj-body></mjml>')


def test_dkim_signature_verifies_and_reply_to_is_set(project, tmp_path):
    import subprocess

    import dkim

    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    cfg = project / "syndicate.toml"
    cfg.write_text(
        cfg.read_text().replace(
            "[mail]\n",
            f'[mail]\ndkim_selector = "s1"\ndkim_key_file = "{key}"\n'
            'sender = "Harbour News <news@news.example.com>"\n',
        )
    )
    daily = project / "schedules" / "daily.toml"
    daily.write_text(daily.read_text() + 'reply_to = "letters@news.example.com"\n')
    made = _made(project)
    raw = made.message.compose(Subscriber("r@example.org", "Zoë"))
    assert raw.startswith(b"DKIM-Signature:")
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name, timeout=5):
        assert name == b"s1._domainkey.news.example.com."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    msg = _parse(raw)
    assert msg["Reply-To"] == "letters@news.example.com" and not msg.defects


def test_quoted_printable_never_starts_a_line_with_a_dot():
    """Composed messages go to SMTP without a dot-stuffing pass (DataReady), so no encoded
    line may start with a dot; decoding must still give the text back, lines ≤ 76."""
    import binascii
    import random

    from syndicate.digest.mime import _qp

    rng = random.Random(5)
    pieces = [".", "..", "a", "ééé", "=", "word", ".start", "\n", "\n.", " ", "x" * 74, "y" * 75]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 60)))
        out = _qp(text)
        lines = out.split(b"\r\n")
        plain = binascii.b2a_qp(text.encode(), istext=True).split(b"\n")
        assert not any(line.startswith(b".") for line in lines), text
        assert max(map(len, lines)) <= max(76, *map(len, plain)), text
        assert b"\n" not in out.replace(b"\r\n", b"") and b"\r" not in out.replace(b"\r\n", b"")
        assert binascii.a2b_qp(out.replace(b"\r\n", b"\n")).decode() == text


def test_composed_message_is_data_ready(project):
    from syndicate.digest.mime import DataReady

    config = load_config(project)
    store = open_store(config.store_url)
    made, _ = make.create_edition(
        config, store, digest_schedule(project, "daily"), datetime.now(UTC), datetime.now(UTC)
    )
    sub = Subscriber("dot@example.org", ".Dotty", "active", ["daily"])
    raw = made.message.compose(sub)
    store.close()
    assert isinstance(raw, DataReady)
    assert b"\n." not in raw and raw.count(b"\n") == raw.count(b"\r\n") == raw.count(b"\r")
