"""What a person sees, in a real browser: Chromium driven by Playwright. Screenshots at
desktop and phone widths go to tests/artifacts/screenshots/ (git-ignored) to be looked at."""

from __future__ import annotations

from support.browser import chromium, served, shoot
from support.cli import run_cli
from support.projects import add_stories, mail_project


def test_a_digest_reads_at_desktop_and_phone_widths(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 1)
    add_stories(project, range(3, 6))
    out = tmp_path / "daily.html"
    run_cli("digest", "preview", "daily", "--out", str(out), project=project, check=0)
    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(out.as_uri())
        assert page.locator("a", has_text="Story 5").count() >= 1  # the lead, as a link
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            # Nothing wider than the screen: no sideways scrolling on a phone.
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        shots = shoot(page, "digest")
        assert all(p.stat().st_size > 10_000 for p in shots)
        assert errors == []


def test_the_edition_archive_reads_in_a_browser(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 1)
    run_cli("send", "daily", "--yes", project=project, check=0)
    with served(project) as base, chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{base}/editions/")
        shoot(page, "editions")
        page.locator("a[href^='/editions/daily/2']").first.click()
        page.wait_for_load_state()
        assert "/editions/daily/" in page.url
        assert page.locator("text=Story 2").count() >= 1
        body = page.content()
        assert "reader0@example.org" not in body and "/unsubscribe/" not in body
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        shoot(page, "edition")
        assert errors == []
