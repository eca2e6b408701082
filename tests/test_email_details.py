"""The details a reader and a mail filter see in every email: From and Reply-To written as
RFC 5322 asks, the HTML's language, a preheader that is not the subject, the "View in
browser" hook, and the publisher's postal address in the footer."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email import policy
from email.errors import ObsoleteHeaderDefect
from email.parser import BytesParser
from pathlib import Path

import pytest

from syndicate.digest import make
from syndicate.digest.render import PREHEADER_MAX, Renderer, edition_context, preheader
from syndicate.models import Image, Story, Subscriber
from syndicate.project.schedules import digest_schedule
from syndicate.project.settings import SETTINGS, load_config
from syndicate.project.starter import init_project
from syndicate.store import open_store

pytestmark = pytest.mark.fast

BASE = "https://news.example.com"
NOW = datetime(2024, 5, 10, 6, 0, tzinfo=UTC)
NAMES = ["asianlite.com", "Smith, Jones & Co.", 'Zoë "Z" News']


def _project(tmp_path: Path, stories: int = 4, title=lambda i: f"Headline number {i}") -> Path:
    project = tmp_path / "proj"
    init_project(project, f"{BASE}/", "UTC", "Harbour News")
    (project / ".secret-key").write_text("test-key-not-secret\n")
    store = open_store(load_config(project, env={}).store_url)
    for i in range(1, stories + 1):
        store.save_story(
            Story(
                url=f"{BASE}/2024/world/story-{i}/",
                title=title(i),
                published=datetime(2024, 5, 1, 8, tzinfo=UTC) + timedelta(hours=i),
                section="world",
                section_name="World",
                image=Image(f"{BASE}/img/{i}.jpg", f"Caption {i}"),
                summary=f"The lede of story {i}.",
                body_text=[f"Body {i}."],
            )
        )
    store.close()
    return project


def _set(project: Path, table: str, line: str) -> None:
    """Add one line at the top of a [table] of syndicate.toml."""
    cfg = project / "syndicate.toml"
    text = cfg.read_text(encoding="utf-8")
    if table == "site":  # the starter writes name = "…"; a second one would be a TOML error
        key = line.split("=", 1)[0].strip()
        text = re.sub(rf"(?m)^{key} = .*\n", "", text)
    cfg.write_text(text.replace(f"[{table}]\n", f"[{table}]\n{line}\n", 1), encoding="utf-8")


def _made(project: Path, browser_url: str = ""):
    config = load_config(project, env={})
    schedule = digest_schedule(project, "daily")
    store = open_store(config.store_url)
    try:
        edition = make.next_edition(store, schedule, NOW, NOW)
    finally:
        store.close()
    context = edition_context(config, schedule, edition, browser_url=browser_url)
    rendered = Renderer(project).render(context, schedule.template, schedule.subject)
    return make.render_edition(config, schedule, edition), rendered


def _raw_header(raw: bytes, name: str) -> bytes:
    """One header's line as sent, unfolded: what a strict filter reads."""
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ")
    [line] = [h for h in head.split(b"\r\n") if h.lower().startswith(name.lower() + b":")]
    return line


def _check_mailbox(raw: bytes, header: str, name: str, address: str) -> None:
    """The header parses back to exactly (name, address) with no defect at all, and is
    written as RFC 5322 writes it: ASCII, the name a quoted-string or an encoded-word."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    value = msg[header]
    assert value.defects == (), (header, value.defects)
    assert not any(isinstance(d, ObsoleteHeaderDefect) for d in msg.defects)
    [mailbox] = value.addresses
    assert (mailbox.display_name, mailbox.addr_spec) == (name, address)
    line = _raw_header(raw, header.encode())
    assert line.isascii()
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        assert line == f'{header}: "{quoted}" <{address}>'.encode()
    else:
        assert line.startswith(f"{header}: =?utf-8?".encode())


@pytest.mark.parametrize("name", NAMES)
def test_a_site_name_with_specials_is_a_quoted_display_name(tmp_path, name):
    """No sender configured: From is the site's name at news@SITE, quoted when it must be
    (`From: asianlite.com <…>` is obsolete syntax that strict parsers flag)."""
    project = _project(tmp_path)
    _set(project, "site", f"name = {json.dumps(name)}")
    made, _ = _made(project)
    raw = made.message.compose(Subscriber("r@example.org", "Reader"))
    _check_mailbox(raw, "From", name, "news@news.example.com")
    config = load_config(project, env={})
    schedule = digest_schedule(project, "daily")
    confirm = make.confirmation(config, schedule, Subscriber("r@example.org"), f"{BASE}/c/x")
    _check_mailbox(confirm, "From", name, "news@news.example.com")


@pytest.mark.parametrize("name", NAMES)
def test_a_configured_sender_and_reply_to_are_quoted_as_written(tmp_path, name):
    """`sender = "Smith, Jones & Co. <news@…>"` is one mailbox with a comma in its name (not
    an address list): the header quotes it, and the envelope is still the bare address."""
    project = _project(tmp_path)
    _set(project, "mail", f"sender = {json.dumps(f'{name} <news@news.example.com>')}")
    daily = project / "schedules" / "daily.toml"
    reply = f"{name} <letters@news.example.com>"
    daily.write_text(daily.read_text() + f"reply_to = {json.dumps(reply)}\n")
    made, _ = _made(project)
    raw = made.message.compose(Subscriber("r@example.org", "Reader"))
    _check_mailbox(raw, "From", name, "news@news.example.com")
    _check_mailbox(raw, "Reply-To", name, "letters@news.example.com")
    assert make.envelope_sender(made.message.sender) == "news@news.example.com"
    assert made.message.sender.domain == "news.example.com"
    config = load_config(project, env={})
    schedule = digest_schedule(project, "daily")
    confirm = make.confirmation(config, schedule, Subscriber("r@example.org"), f"{BASE}/c/x")
    _check_mailbox(confirm, "From", name, "news@news.example.com")
    _check_mailbox(confirm, "Reply-To", name, "letters@news.example.com")


def test_a_sender_already_quoted_is_not_quoted_twice(tmp_path):
    project = _project(tmp_path)
    _set(project, "mail", 'sender = "\\"asianlite.com\\" <news@news.example.com>"')
    made, _ = _made(project)
    raw = made.message.compose(Subscriber("r@example.org", "Reader"))
    _check_mailbox(raw, "From", "asianlite.com", "news@news.example.com")


def test_the_html_language_is_the_sites(tmp_path):
    project = _project(tmp_path)
    made, _ = _made(project)
    assert re.search(r'<html lang="en"', made.rendered.html)  # the starter's language
    _set(project, "site", 'language = "hi-IN"')
    made, _ = _made(project)
    assert re.search(r'<html lang="hi-IN"', made.rendered.html)
    assert 'lang="und"' not in made.rendered.html
    config = load_config(project, env={})
    schedule = digest_schedule(project, "daily")
    confirm = make.confirmation(config, schedule, Subscriber("r@example.org"), f"{BASE}/c/x")
    html = BytesParser(policy=policy.default).parsebytes(confirm).get_body(("html",))
    assert '<html lang="hi-IN"' in html.get_content()


def _preview_text(html: str) -> str:
    """The hidden preheader MJML writes at the top of the body."""
    found = re.search(r'<div style="display:none;[^"]*">(.*?)</div>', html, re.S)
    assert found, "no preheader"
    return found.group(1)


def test_the_preheader_is_the_next_headlines_not_the_subject(tmp_path):
    project = _project(tmp_path)
    made, _ = _made(project)
    subject = made.rendered.subject
    assert subject == "Friday 10 May 2024: Headline number 4"  # the lead's title is in it
    shown = _preview_text(made.rendered.html).replace("&middot;", "·")
    assert shown == "Headline number 3 · Headline number 2 · Headline number 1"
    assert shown != subject


def test_the_preheader_of_a_one_story_edition_is_its_lede(tmp_path):
    project = _project(tmp_path, stories=1)
    daily = project / "schedules" / "daily.toml"
    daily.write_text(
        re.sub(r"(?m)^subject = .*$", 'subject = "{{ edition.lead.title }}"', daily.read_text())
    )
    made, _ = _made(project)
    assert made.rendered.subject == "Headline number 1"
    assert _preview_text(made.rendered.html) == "The lede of story 1."


def test_a_long_preheader_is_cut_at_a_word():
    cards = [{"title": f"A rather long headline about harbour affairs, part {i}"} for i in range(5)]
    line = preheader({"stories": cards, "lead": cards[0]}, "Friday: something else")
    assert len(line) <= PREHEADER_MAX and line.endswith("…")
    assert line.startswith(cards[0]["title"] + " · ") and "part 3" not in line
    # Nothing but what the subject says: a count, never the subject again.
    alone = {"stories": [{"title": "Only"}], "lead": {"title": "Only", "summary": ""}}
    assert preheader(alone, "Only") == "1 story in this edition"


def test_view_in_browser_appears_only_when_the_edition_has_a_page(tmp_path):
    project = _project(tmp_path)
    _, plain = _made(project)
    assert "View in browser" not in plain.html and "View in browser" not in plain.text
    page = "https://news.example.com/editions/daily/2024-05-10"
    _, linked = _made(project, browser_url=page)
    assert re.search(rf'<a href="{re.escape(page)}"[^>]*>View in browser</a>', linked.html)
    assert f"View in browser: {page}\n" in linked.text


def test_the_postal_address_is_a_setting_written_commented_by_init(tmp_path):
    project = _project(tmp_path)
    setting = SETTINGS["site"]["postal_address"]
    assert setting.default == "" and "footer" in setting.help
    assert load_config(project, env={}).site.postal_address == ""
    assert re.search(r"(?m)^# postal_address = ", (project / "syndicate.toml").read_text())


def test_the_footer_carries_the_postal_address_when_set(tmp_path):
    project = _project(tmp_path)
    made, _ = _made(project)
    assert "Quay Street" not in made.rendered.html + made.rendered.text
    _set(project, "site", 'postal_address = "Harbour News Ltd\\n1 Quay Street\\nPorthaven PH1 2AB"')
    made, _ = _made(project)
    address = "Harbour News Ltd, 1 Quay Street, Porthaven PH1 2AB"
    footer_html = made.rendered.html.rsplit("Read the story", 1)[1]
    assert address in footer_html
    footer_text = made.rendered.text.rsplit("-" * 72, 1)[1]
    assert f"\n{address}\n" in footer_text
    config = load_config(project, env={})
    schedule = digest_schedule(project, "daily")
    confirm = make.confirmation(config, schedule, Subscriber("r@example.org"), f"{BASE}/c/x")
    msg = BytesParser(policy=policy.default).parsebytes(confirm)
    assert address in msg.get_body(("html",)).get_content()
    assert address in msg.get_body(("plain",)).get_content()


def test_a_lead_image_kept_in_public_media_is_shown_from_the_web_app(tmp_path):
    """A copy kept under the name of its URL (as the demo keeps its sample site's images,
    whose port is gone after the demo) is linked at PUBLIC_URL/media/; others stay as the
    site gives them."""
    from syndicate.urls import IMAGE_SUFFIXES, media_name
    from syndicate.web.app import IMAGE_TYPES

    assert set(IMAGE_TYPES) == set(IMAGE_SUFFIXES)  # what is kept is what is served
    project = _project(tmp_path)
    config = load_config(project, env={})
    kept = media_name(f"{BASE}/img/1.jpg")
    assert kept.endswith(".jpg") and "/" not in kept and media_name(f"{BASE}/page/") == ""
    config.media_dir.mkdir(parents=True)
    (config.media_dir / kept).write_bytes(b"\xff\xd8\xff")
    made, _ = _made(project)
    sources = re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', made.rendered.html)
    assert f"{config.public_url}/media/{kept}" in sources
    assert f"{BASE}/img/2.jpg" in sources and f"{BASE}/img/1.jpg" not in sources
