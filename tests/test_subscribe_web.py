"""Subscribe, confirm and leave through the real web app, with mail to a real SMTP server."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from smtp_server import SMTPServer
from support.cli import run_cli
from support.projects import add_stories, mail_project

from syndicate.models import Subscriber
from syndicate.project.secret import secret_key
from syndicate.tokens import Tokens


@pytest.fixture
def site(tmp_path):
    """(web app base URL, project, SMTP server): `syndicate serve` on a free port."""
    smtp = SMTPServer().start()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    project = mail_project(tmp_path, smtp, 0)
    cfg = project / "syndicate.toml"
    cfg.write_text(
        cfg.read_text().replace('public_url = "https://news.example.com"', f'public_url = "{base}"')
    )
    try:
        with _serving(project, port):
            yield base, project, smtp
    finally:
        smtp.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _serving(project: Path, port: int) -> Iterator[str]:
    """`syndicate serve` for a project on a port, until the block ends; yields its base URL."""
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syndicate",
            "--project",
            str(project),
            "serve",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _status(project, email: str) -> str:
    for line in run_cli("subscribers", "list", project=project, check=0).stdout.splitlines():
        if line.startswith(email + "\t"):
            return line.split("\t")[2]
    return "absent"


def test_subscribe_confirm_and_one_click_unsubscribe(site):
    base, project, smtp = site
    with httpx.Client(base_url=base) as web:
        r = web.post("/subscribe", data={"email": "Zoe@Example.org", "name": "Zoë"})
        assert r.status_code == 202
        assert _status(project, "zoe@example.org") == "pending"
        [mail] = smtp.to("zoe@example.org")
        link = re.search(
            r"(http://\S+/confirm/\S+)", mail.message.get_body(("plain",)).get_content()
        )
        assert link
        # The same answer for an address already there, or never seen: nothing revealed.
        again = web.post("/subscribe", json={"email": "zoe@example.org"})
        other = web.post("/subscribe", json={"email": "new@example.org"})
        assert again.status_code == other.status_code == 202
        assert again.json() == other.json()
        confirmed = web.get(link.group(1).replace(base, ""))
        assert confirmed.status_code == 200 and "confirmed" in confirmed.text
        assert _status(project, "zoe@example.org") == "active"
        # An edition reaches her, with a one-click unsubscribe URL in its header.
        run_cli("send", "daily", project=project, check=0)
        [digest] = [m for m in smtp.to("zoe@example.org") if "List-Unsubscribe" in m.message]
        header = str(digest.message["List-Unsubscribe"])
        url = re.search(r"<(http[^>]+)>", header).group(1)
        assert url.startswith(f"{base}/unsubscribe/")
        # A link scanner's GET shows a page and unsubscribes nobody.
        page = web.get(url)
        assert page.status_code == 200 and "<form" in page.text
        assert _status(project, "zoe@example.org") == "active"
        # Forged and foreign tokens change nothing.
        assert web.post(url[:-3] + "xyz", data={"List-Unsubscribe": "One-Click"}).status_code == 400
        assert web.get(f"{base}/confirm/not-a-token").status_code == 400
        assert _status(project, "zoe@example.org") == "active"
        # RFC 8058: a POST with the body, no cookie, no CSRF token; twice is fine.
        for _ in range(2):
            one_click = httpx.post(
                url,
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert one_click.status_code == 200
        assert _status(project, "zoe@example.org") == "unsubscribed"
        # The next edition skips her.
        before = len(smtp.to("zoe@example.org"))
        add_stories(project, [8])
        later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        run_cli("send", "daily", "--slot", later, project=project)
        assert len(smtp.to("zoe@example.org")) == before
        metrics = web.get("/metrics").text
        assert 'syndicate_messages{status="sent"} 1' in metrics
        assert "syndicate_editions 2" in metrics


def test_subscribe_is_rate_limited_and_checks_addresses(site):
    base, _, _ = site
    with httpx.Client(base_url=base) as web:
        assert web.post("/subscribe", data={"email": "nope"}).status_code == 400
        codes = [
            web.post("/subscribe", json={"email": f"a{i}@example.org"}).status_code
            for i in range(6)
        ]
        assert codes[:4] == [202] * 4 and codes[-1] == 429


def _reader_links(project: Path) -> tuple[str, str]:
    """The unsubscribe and preferences paths of mail_project's reader0 for 'daily'."""
    tokens = Tokens(secret_key(project))
    reader = Subscriber("reader0@example.org").id
    return (
        f"/unsubscribe/{tokens.unsubscribe(reader, 'daily')}",
        f"/preferences/{tokens.preferences(reader, 'daily')}",
    )


def test_a_publishers_page_template_frames_every_page(tmp_path, smtp):
    """templates/web/page.html overridden: the built-in unsubscribe page extends it."""
    project = mail_project(tmp_path, smtp, 1)
    (project / "templates" / "web" / "page.html").write_text(
        '<main class="harbour"><h2>{{ title }}</h2><em>{{ message }}</em>'
        "{% block form %}{% endblock %}</main>\n"
    )
    unsubscribe, _ = _reader_links(project)
    with _serving(project, _free_port()) as base, httpx.Client(base_url=base) as web:
        page = web.get(unsubscribe)
        broken = web.get("/confirm/not-a-token")
    assert page.status_code == 200
    assert page.text.startswith('<main class="harbour"><h2>Unsubscribe</h2>')
    assert "<em>Stop receiving Daily briefing?</em>" in page.text
    assert f'action="{unsubscribe}"' in page.text
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in page.text
    assert broken.status_code == 400
    assert "<h2>Link not valid</h2><em>This confirmation link is broken" in broken.text


def test_a_digest_title_with_markup_is_escaped(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 1)
    daily = project / "schedules" / "daily.toml"
    daily.write_text(
        daily.read_text().replace(
            'title = "Daily briefing"', 'title = "Daily <script>alert(1)</script>"'
        )
    )
    unsubscribe, preferences = _reader_links(project)
    with _serving(project, _free_port()) as base, httpx.Client(base_url=base) as web:
        pages = [web.get(unsubscribe), web.get(preferences)]
    for page in pages:
        assert page.status_code == 200
        assert "<script>" not in page.text
        assert "Daily &lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "Stop receiving Daily &lt;script&gt;alert(1)&lt;/script&gt;?" in pages[0].text


def test_a_project_without_web_templates_serves_the_built_in_pages(tmp_path, smtp):
    """A project made before templates/web/ existed still has working pages."""
    project = mail_project(tmp_path, smtp, 1)
    shutil.rmtree(project / "templates" / "web")
    unsubscribe, preferences = _reader_links(project)
    with _serving(project, _free_port()) as base, httpx.Client(base_url=base) as web:
        page = web.get(unsubscribe)
        choices = web.get(preferences)
        saved = web.post(preferences, data={"digest": []})
        left = web.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert page.status_code == 200 and "<h1>Unsubscribe</h1>" in page.text
    assert '<button type="submit">Unsubscribe from Daily briefing</button>' in page.text
    assert choices.status_code == 200
    assert '<input type="checkbox" name="digest" value="daily" checked> Daily briefing' in (
        choices.text
    )
    assert saved.status_code == 200 and "<h1>Saved</h1>" in saved.text
    assert left.status_code == 200 and "<h1>Unsubscribed</h1>" in left.text
