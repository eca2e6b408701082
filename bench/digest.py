"""Benchmark a digest edition: render once, personalize and assemble per subscriber.

Run it from the repository root (syndicate installed, e.g. ``pip install -e .``)::

    python bench/digest.py                      # 12 stories, 10,000 subscribers
    python bench/digest.py --subscribers 2000   # fewer
    python bench/digest.py --naive 200          # subscribers for the naive baseline

What it does, all in this one process (one core):

1. writes a project with ``syndicate init`` into a temporary directory and stores 12
   generated stories (long ledes, lead images, three ALSO READ links each) so the rendered
   HTML is about 90 KB, as a busy day's digest is;
2. renders the edition once, timing Jinja (both templates), MJML (mjml-python) and
   premailer separately;
3. composes one message per subscriber for N subscribers (names with accents on some):
   placeholders filled, signed tokens, the two parts quoted-printable encoded, headers;
   then again for a share of them with DKIM signing (a 2048-bit RSA key made here);
4. the naive way for a ratio: per subscriber the full Jinja → MJML → premailer render and
   a Python EmailMessage (set_content + add_alternative, as_bytes), over --naive
   subscribers;
5. parses every composed message back with email.policy.default (two worker processes,
   outside the timings) and checks no defects, the recipient, the name and the tokens;
6. prints every figure with the targets: at least 1,000 messages a second on one core, at
   least 30x the naive way.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from syndicate.digest import make
from syndicate.digest.mime import DkimKey, MessageTemplate
from syndicate.digest.render import Renderer, edition_context
from syndicate.models import CrossLink, Image, Story, Subscriber
from syndicate.project.schedules import digest_schedule
from syndicate.project.settings import load_config
from syndicate.store import open_store
from syndicate.tokens import Tokens

NAMES = ["Ana", "Zoë", "Łukasz", "Mei", "Olu", "Siobhán", "Raj", "Anders", "Noor", "Kim"]
WORDS = (
    "council harbour minister report said the would on for a of in to and with new plan "
    "city police market school vote project budget river energy trade court health talks"
).split()
BASE = "https://news.example.com"
NOW = datetime(2024, 5, 10, 6, 0, tzinfo=UTC)


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def fill(project: Path, seed: int) -> None:
    """Store 12 generated stories in the project."""
    rng = random.Random(seed)
    config = load_config(project)
    store = open_store(config.store_url)
    for i in range(12):
        section = ["world", "business", "sport", "culture"][i % 4]
        store.save_story(
            Story(
                url=f"{BASE}/2024/{section}/story-{i:02d}/",
                title=_words(rng, 10).capitalize(),
                published=NOW - timedelta(hours=i + 1),
                author="A. Reporter",
                section=section,
                section_name=section.title(),
                image=Image(f"{BASE}/img/{i:02d}.jpg", _words(rng, 8).capitalize()),
                summary=_words(rng, 150).capitalize() + ".",
                body_text=["Body."],
                body_html="<p>Body.</p>",
                also_read=[
                    CrossLink(_words(rng, 9).capitalize(), f"{BASE}/2023/{section}/old-{i}-{j}/")
                    for j in range(3)
                ],
                first_seen=NOW - timedelta(hours=i + 1),
            )
        )
    store.close()


def subscribers(n: int) -> list[Subscriber]:
    """N subscribers, some with non-ASCII names."""
    return [Subscriber(f"reader{i}@example.org", f"{NAMES[i % 10]} Reader{i}") for i in range(n)]


def dkim_key(tmp: Path) -> bytes:
    """A fresh 2048-bit RSA private key in PEM."""
    path = tmp / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(path), "2048"], check=True, capture_output=True
    )
    return path.read_bytes()


def naive(config, schedule, edition, subscriber: Subscriber) -> bytes:
    """The full render and an EmailMessage for one subscriber: what rendering once avoids."""
    renderer = Renderer(config.project)
    context = edition_context(config, schedule, edition)
    context["subscriber"] = {"name": subscriber.name}
    rendered = renderer.render(context, schedule.template, schedule.subject)
    msg = EmailMessage()
    msg["From"] = "Harbour News <news@news.example.com>"
    msg["To"] = f"{subscriber.name} <{subscriber.email}>"
    msg["Subject"] = rendered.subject
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg.as_bytes(policy=policy.SMTP)


def check(batch: list[tuple[bytes, str, str, str]]) -> list[str]:
    """Parse messages back (policy.default); return one line per problem."""
    problems = []
    parser = BytesParser(policy=policy.default)
    for raw, email, name, token in batch:
        msg = parser.parsebytes(raw)
        defects = [d for p in msg.walk() for d in p.defects] + list(msg.defects)
        [to] = msg["To"].addresses
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        if defects:
            problems.append(f"{email}: defects {defects}")
        if to.addr_spec != email or to.display_name != name:
            problems.append(f"{email}: To is {to}")
        if token not in str(msg["List-Unsubscribe"]) or token not in text or token not in html:
            problems.append(f"{email}: unsubscribe token missing")
        if f"Hello {name}," not in text:
            problems.append(f"{email}: name missing from the text part")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=200)
    parser.add_argument("--dkim", type=int, default=1000, help="subscribers signed with DKIM")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="syndicate-bench-digest-"))
    try:
        project = tmp / "proj"
        subprocess.run(
            [sys.executable, "-m", "syndicate", "init", str(project), "--site-url",
             f"{BASE}/", "--name", "Harbour News"],
            check=True, capture_output=True,
        )  # fmt: skip
        fill(project, args.seed)
        config = load_config(project)
        schedule = digest_schedule(project, "daily")
        store = open_store(config.store_url)
        from syndicate.digest.edition import next_edition

        edition = next_edition(store, schedule, NOW, NOW)
        store.close()

        # 1. Render once, each stage timed.
        renderer = Renderer(project)
        renderer.render(edition_context(config, schedule, edition), "digest", schedule.subject)
        t0 = time.perf_counter()
        context = edition_context(config, schedule, edition)
        mjml_source = renderer._jinja("digest.mjml.j2", context)
        text = renderer._jinja("digest.txt.j2", context)
        t1 = time.perf_counter()
        compiled = renderer.compile(mjml_source)
        t2 = time.perf_counter()
        html = renderer.inline(compiled)
        t3 = time.perf_counter()
        made = make.render_edition(config, schedule, edition, renderer)
        template: MessageTemplate = made.message
        t4 = time.perf_counter()
        size = len(html.encode("utf-8"))
        print(f"edition: {len(edition.stories)} stories, HTML {size / 1024:.1f} KB, text "
              f"{len(text.encode()) / 1024:.1f} KB")  # fmt: skip
        print(f"render once: Jinja {(t1 - t0) * 1000:.1f} ms, MJML {(t2 - t1) * 1000:.1f} ms, "
              f"premailer {(t3 - t2) * 1000:.1f} ms; whole render_edition "
              f"{(t4 - t3) * 1000:.1f} ms")  # fmt: skip

        # 2. Personalize and assemble, per subscriber.
        people = subscribers(args.subscribers)
        started = time.perf_counter()
        messages = [template.compose(s) for s in people]
        elapsed = time.perf_counter() - started
        rate = len(people) / elapsed
        print(f"compose, no DKIM: {elapsed * 1000 / len(people):.3f} ms/message, "
              f"{rate:,.0f} messages/s over {len(people):,} subscribers")  # fmt: skip

        signed = MessageTemplate(
            made.rendered.subject, made.rendered.html, made.rendered.text, template.sender,
            schedule.name, Tokens("bench-key"), dkim=DkimKey("bench", "news.example.com",
            dkim_key(tmp)), list_name=schedule.title,
        )  # fmt: skip
        some = people[: args.dkim]
        started = time.perf_counter()
        for s in some:
            signed.compose(s)
        d_elapsed = time.perf_counter() - started
        print(f"compose with DKIM (rsa-sha256, 2048 bits): "
              f"{d_elapsed * 1000 / len(some):.3f} ms/message, "
              f"{len(some) / d_elapsed:,.0f} messages/s over {len(some):,}")  # fmt: skip

        # 3. The naive way.
        few = people[: args.naive]
        started = time.perf_counter()
        for s in few:
            naive(config, schedule, edition, s)
        n_elapsed = time.perf_counter() - started
        n_rate = len(few) / n_elapsed
        print(f"naive (render + EmailMessage per subscriber): "
              f"{n_elapsed * 1000 / len(few):.1f} ms/message, {n_rate:,.1f} messages/s "
              f"over {len(few)}")  # fmt: skip

        # 4. Every message parses back, with the right recipient, name and token.
        batch = []
        for s, raw in zip(people, messages, strict=True):
            token = template.urls(s)[0].rsplit("/", 1)[1]
            batch.append((raw, s.email, s.name, token))
        started = time.perf_counter()
        chunks = [batch[i : i + 500] for i in range(0, len(batch), 500)]
        with ProcessPoolExecutor(max_workers=2) as pool:
            problems = [p for found in pool.map(check, chunks) for p in found]
        print(f"parsed back {len(batch):,} messages (policy.default) in "
              f"{time.perf_counter() - started:.1f}s: {len(problems)} problems")  # fmt: skip
        for line in problems[:10]:
            print("  " + line)

        ratio = rate / n_rate
        met = {True: "met", False: "NOT met"}
        print(f"messages/s = {rate:,.0f}   (target >= 1,000 on one core: {met[rate >= 1000]})")
        print(f"ratio to naive = {ratio:,.0f}x   (target >= 30x: {met[ratio >= 30]})")
        print(f"HTML size {size / 1024:.1f} KB   (Gmail clips above 102 KB: "
              f"{met[size < 102 * 1024]})")  # fmt: skip
        return 1 if problems else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
