"""The bundled sample site (markup unlike site-a's) gathered through the real CLI, and
`syndicate demo`, the README's first command."""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from support.cli import run_cli, stories_json
from support.projects import site_project
from support.summary import SUMMARY
from support.web import serving

from syndicate.demo.run import SAMPLE_SUBSCRIBERS
from syndicate.demo.sample_site import serve, truth

FIELDS = [
    "url",
    "title",
    "published",
    "modified",
    "author",
    "section",
    "tags",
    "image",
    "summary",
    "body_text",
    "also_read",
]


def _when(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def _compare(stories: list[dict], expected: list[dict], label: str) -> dict[str, list[str]]:
    got = {s["url"]: s for s in stories}
    assert set(got) == {e["url"] for e in expected}
    misses: dict[str, list[str]] = {f: [] for f in FIELDS}
    for want in expected:
        have = got[want["url"]]
        for f in FIELDS:
            a, b = have[f], want[f]
            if f in ("published", "modified"):
                a, b = _when(a), _when(b)
            if f == "also_read":
                b = [{k: c[k] for k in ("title", "url", "external")} for c in b]
            if a != b:
                misses[f].append(f"{want['url']}: got {a!r:.200} want {b!r:.200}")
    n = len(expected)
    SUMMARY.extend(f"sample site, {label}: {f:<10} {n - len(misses[f]):>3} of {n}" for f in FIELDS)
    return misses


def test_sample_site_gathered_exactly(tmp_path):
    base, server = serve()
    with server:
        project = site_project(tmp_path, base.rstrip("/"), timezone="Europe/London")
        first = run_cli("gather", project=project)
        assert first.returncode == 0, first.stderr
        misses = _compare(stories_json(project), truth(base), "first gather")
        assert not any(misses.values()), misses
        before = len(server.requests)
        second = run_cli("gather", project=project, check=0)
        assert "0 new, 0 updated" in second.stdout
        assert all(
            status == 304 for _, path, status in server.requests[before:] if path.count("/") > 5
        ), server.requests[before:]


def _said(stdout: str) -> dict[str, list[str]]:
    """The demo's "label:  value" lines (feeds:, outbox:, digest: …), by label."""
    said: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        if line[:8].rstrip().endswith(":"):
            label, value = line.split(None, 1)
            said.setdefault(label, []).append(value)
    return said


def _check_what_it_said(stdout: str, demo_dir: Path) -> None:
    """Every path the output names is there: feeds, one email per subscriber, previews."""
    said = _said(stdout)
    feeds = Path(said["feeds:"][0].split()[0])
    assert {"all.rss", "all.atom", "all.json", "index.opml"} <= {p.name for p in feeds.iterdir()}
    assert (feeds / "sections").is_dir() and feeds.parent.parent.resolve() == demo_dir
    outbox_line = said["outbox:"][0]
    outbox = Path(outbox_line.split()[0])
    assert outbox.resolve().parent.parent.parent == demo_dir
    files = sorted(outbox.iterdir())
    assert f"({len(SAMPLE_SUBSCRIBERS)} messages" in outbox_line
    messages = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in files]
    # Exactly one message per sample subscriber.
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in messages) == sorted(
        email for email, _ in SAMPLE_SUBSCRIBERS
    )
    for m in messages:
        assert m["Subject"] and str(m["List-Unsubscribe"]).startswith("<http://127.0.0.1:8080/")
        assert m.get_body(("html",)).get_content().count("<a ") > 10
    # The emails show the lead images from the project's own copies (public/media/, served
    # at /media/), not from the sample site, whose port is gone when the demo ends.
    media = Path(said["images:"][0].split()[0])
    assert media.resolve() == demo_dir / "public" / "media"
    kept = sorted(p.name for p in media.iterdir())
    assert f"({len(kept)} lead images" in said["images:"][0] and len(kept) >= 10
    for m in messages:
        sources = re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', m.get_body(("html",)).get_content())
        assert sources and all(u.startswith("http://127.0.0.1:8080/media/") for u in sources)
        assert {u.rsplit("/", 1)[1] for u in sources} <= set(kept)
    previews = [Path(v) for v in said["digest:"]]
    assert {p.suffix for p in previews} == {".html", ".eml"} and all(p.is_file() for p in previews)
    assert all(p.resolve().is_relative_to(demo_dir) for p in previews)
    project = said["project:"][0].split()[0].rstrip("/")
    assert Path(project).resolve() == demo_dir
    assert said["serve:"][0].startswith(f"syndicate --project {project} serve ")
    assert said["daemon:"][0].startswith(f"syndicate --project {project} run ")


def _images_still_resolve(demo_dir: Path) -> None:
    """After the demo (its sample site stopped), `syndicate serve` of the demo project
    answers every image URL its emails show, with the picture the sample site served."""
    [email] = list((demo_dir / "public" / "outbox" / "new").iterdir())[:1]
    html = BytesParser(policy=policy.default).parsebytes(email.read_bytes())
    paths = [
        urlsplit(u).path
        for u in re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', html.get_body(("html",)).get_content())
    ]
    with serving(demo_dir) as base, httpx.Client(base_url=base, timeout=10) as client:
        for path in paths:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.text)
            assert answer.headers["content-type"] == "image/png"
            kept = demo_dir / "public" / "media" / path.rsplit("/", 1)[1]
            assert answer.content == kept.read_bytes()
            assert answer.content.startswith(b"\x89PNG")


def test_demo_command_runs_the_main_job(tmp_path, monkeypatch):
    # A fresh, empty working directory and nothing set up beyond the installed package.
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    demo_dir = work / "demo"
    proc = run_cli("demo", "--dir", str(demo_dir), check=0)
    assert "14 new" in proc.stdout and "0 failed" in proc.stdout
    assert "also read:" in proc.stdout
    assert "sent: 3 sent, 0 deferred, 0 failed" in proc.stdout
    assert [p.name for p in work.iterdir()] == ["demo"]  # it writes nowhere else
    stories = stories_json(demo_dir)
    base = "{0.scheme}://{0.netloc}/".format(urlsplit(stories[0]["url"]))
    misses = _compare(stories, truth(base), "syndicate demo")
    assert not any(misses.values()), misses
    _check_what_it_said(proc.stdout, demo_dir)
    _images_still_resolve(demo_dir)
    # Running it again rewrites the demo project (the relative --dir the README's users type,
    # and a mail url in the environment is not used: the demo sends to the outbox only).
    again = run_cli("demo", "--dir", "demo", env={"SYNDICATE_MAIL__URL": "smtp://127.0.0.1:9"})
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert "project: demo/" in again.stdout
    _check_what_it_said(again.stdout, demo_dir)
    # Another directory is never touched.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    refused = run_cli("demo", "--dir", str(tmp_path / "mine"))
    assert refused.returncode == 2 and (tmp_path / "mine" / "notes.txt").exists()
