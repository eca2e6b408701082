"""Benchmark syndicate's extractor against trafilatura on the real-page corpus.

Run it from the repository root (syndicate installed, e.g. ``pip install -e .``)::

    python bench/extract.py               # all 990 pages of ../shared/corpora/realworld
    python bench/extract.py --limit 200   # the first 200 of the gate's seeded shuffle
    python bench/extract.py --worst 20    # also list the 20 pages where we trail most

Both extractors run in this one process, page after page, on the same decoded HTML:
syndicate's ``extract()`` (its ``body_text``; a page it rejects scores as empty, as a
gather would store nothing) and ``trafilatura.extract(html, url=url)`` with its defaults.
Each is timed per page with ``time.perf_counter`` (parsing included for both). The corpus's
own scoring rule is applied (see bench/corpus.py) and the figures are printed with the ratio
of each to trafilatura's, then the ALSO READ precision and recall on the labelled set in
``tests/fixtures/alsoread/`` (see tests/alsoread_set.py). A third, untimed line scores
syndicate's body reading with the article verdict off (``extract(..., judge=False)``): the
verdict refuses pages that are no articles (shops, forums, wikis) and the corpus scores those
as empty, while trafilatura reads every page it is given.

Exit status: 0 when it ran, 2 when the corpus is not there.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import corpus  # noqa: E402
import trafilatura  # noqa: E402

from syndicate.sources.extract import SiteContext, extract  # noqa: E402
from syndicate.sources.html import parse  # noqa: E402
from syndicate.sources.metadata import read_declared  # noqa: E402
from syndicate.urls import host_of  # noqa: E402


@dataclass
class Run:
    """One extractor's results over the pages: the score, per-page times and counts."""

    name: str
    score: corpus.Score = field(default_factory=corpus.Score)
    times: list[float] = field(default_factory=list)
    found: dict[str, int] = field(default_factory=dict)  # url -> with-snippets found
    by_type: dict[str, corpus.Score] = field(default_factory=dict)

    def add(self, page: corpus.Page, text: str, seconds: float, kind: str) -> None:
        self.times.append(seconds)
        self.found[page.url] = self.score.add(page, text)[0]
        self.by_type.setdefault(kind, corpus.Score()).add(page, text)

    def ms(self, q: float) -> float:
        ordered = sorted(self.times)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ours(page: corpus.Page) -> str:
    """syndicate's body text of a page, empty when it is not taken as an article."""
    result = extract(page.url, page.html, SiteContext({host_of(page.url)}, UTC))
    return "\n".join(result.story.body_text) if result.story else ""


def body_only(page: corpus.Page) -> str:
    """syndicate's body reading of every page, the article verdict left out: what it
    finds where trafilatura is asked, which reads every page it is given."""
    result = extract(page.url, page.html, SiteContext({host_of(page.url)}, UTC), judge=False)
    return "\n".join(result.story.body_text) if result.story else ""


def theirs(page: corpus.Page) -> str:
    return trafilatura.extract(page.html, url=page.url) or ""


def page_kind(page: corpus.Page) -> str:
    """'article' when the page declares itself one (JSON-LD or og:type), else 'other'."""
    return "article" if read_declared(parse(page.html), page.url).article else "other"


def timed(fn, page: corpus.Page) -> tuple[str, float]:
    start = time.perf_counter()
    try:
        text = fn(page)
    except Exception as exc:  # a crash scores as an empty result, and is shown
        print(f"  {fn.__name__} crashed on {page.url}: {exc!r}", file=sys.stderr)
        text = ""
    return text, time.perf_counter() - start


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="score only the first N pages")
    parser.add_argument("--worst", type=int, default=0, help="list the N pages we trail most")
    args = parser.parse_args()
    root = corpus.corpus_dir()
    if root is None:
        print("bench/extract.py: no corpus at ../shared/corpora/realworld", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore")
    urls = corpus.shuffled_urls(root)
    if args.limit:
        urls = urls[: args.limit]
    pages = list(corpus.pages(root, urls))
    mine, ref, reading = Run("syndicate"), Run("trafilatura"), Run("body only")
    for i, page in enumerate(pages, 1):
        kind = page_kind(page)
        text, seconds = timed(ours, page)
        mine.add(page, text, seconds, kind)
        text, seconds = timed(theirs, page)
        ref.add(page, text, seconds, kind)
        text, seconds = timed(body_only, page)
        reading.add(page, text, seconds, kind)
        if i % 100 == 0:
            print(f"  {i}/{len(pages)} pages", file=sys.stderr)
    report(pages, mine, ref)
    s = reading.score
    print(
        f"syndicate's body reading alone (every page read, no article verdict): precision "
        f"{s.precision:.4f}, recall {s.recall:.4f}, F1 {s.f1:.4f} "
        f"({s.f1 - ref.score.f1:+.4f} against trafilatura), {len(s.empty)} pages without a body"
    )
    if args.worst:
        worst(pages, mine, ref, args.worst)
    alsoread_report()
    return 0


def report(pages: list[corpus.Page], mine: Run, ref: Run) -> None:
    print(f"\n{len(pages)} pages of {corpus.corpus_dir()}\n")
    header = (
        f"{'extractor':<12} {'precision':>9} {'recall':>7} {'F1':>7} {'no body':>8} "
        f"{'median ms':>9} {'p99 ms':>8} {'max ms':>8} {'total s':>8}"
    )
    print(header)
    rows = []
    for run in (mine, ref):
        s = run.score
        row = (
            s.precision,
            s.recall,
            s.f1,
            len(s.empty),
            run.ms(0.5),
            run.ms(0.99),
            1000 * max(run.times),
            sum(run.times),
        )
        rows.append(row)
        print(
            f"{run.name:<12} {row[0]:>9.4f} {row[1]:>7.4f} {row[2]:>7.4f} {row[3]:>8} "
            f"{row[4]:>9.1f} {row[5]:>8.1f} {row[6]:>8.0f} {row[7]:>8.1f}"
        )
    print(
        f"{'ratio':<12} "
        + " ".join(
            f"{ratio(a, b):>{w}}"
            for a, b, w in zip(rows[0], rows[1], (9, 7, 7, 8, 9, 8, 8, 8), strict=True)
        )
    )
    d = mine.score.f1 - ref.score.f1
    print(f"\nF1 difference (syndicate - trafilatura): {d:+.4f}")
    lost = [
        p.url
        for p in pages
        if p.with_ and ref.found[p.url] >= 0.8 * len(p.with_) and mine.found[p.url] == 0
    ]
    share = 100 * len(lost) / len(pages)
    print(
        f"pages where trafilatura finds >= 80% of the 'with' snippets and syndicate none: "
        f"{len(lost)} ({share:.1f}%)"
    )
    for kind in sorted(mine.by_type):
        a, b = mine.by_type[kind], ref.by_type[kind]
        print(f"F1 on pages declared '{kind}': syndicate {a.f1:.4f}, trafilatura {b.f1:.4f}")
    slow = sorted(zip(mine.times, (p.url for p in pages), strict=True), reverse=True)[:3]
    print("slowest pages (syndicate): " + ", ".join(f"{u} {1000 * t:.0f} ms" for t, u in slow))
    s, r = mine.score, ref.score
    targets = (
        (f"F1 >= trafilatura's + 0.01 ({r.f1 + 0.01:.4f})", s.f1 >= r.f1 + 0.01),
        ("recall >= 0.94", s.recall >= 0.94),
        ("precision >= 0.90", s.precision >= 0.90),
        ("at most 1% of pages lost where trafilatura finds >= 80%", share <= 1.0),
        ("total time <= trafilatura's", sum(mine.times) <= sum(ref.times)),
        ("median time <= trafilatura's", mine.ms(0.5) <= ref.ms(0.5)),
        ("no page over 1 s", max(mine.times) <= 1.0),
    )
    print("targets: " + "; ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in targets))


def worst(pages: list[corpus.Page], mine: Run, ref: Run, n: int) -> None:
    gaps = sorted(((ref.found[p.url] - mine.found[p.url], p.url) for p in pages), reverse=True)
    print(f"\nthe {n} pages where syndicate trails trafilatura most (with-snippets found):")
    for gap, url in gaps[:n]:
        print(f"  {gap:+d}  {url}")


def alsoread_report() -> None:
    try:
        import alsoread_set
    except ImportError:
        return
    result = alsoread_set.score()
    print(
        f"\nALSO READ on the labelled set ({result.positives} entries on {result.pages} pages,"
        f" {result.negatives} negative blocks): precision {result.precision:.3f} (target "
        f"0.98), recall {result.recall:.3f} (target 0.95)"
    )


if __name__ == "__main__":
    sys.exit(main())
