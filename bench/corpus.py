"""The real-world extraction corpus (``../shared/corpora/realworld/``) and its scoring rule.

Shared by ``bench/extract.py`` (all 990 pages, syndicate beside trafilatura) and the quality
gate in ``tests/test_extract_realworld.py`` (a fixed sample). The rule is the corpus's own,
from its README: whitespace-normalise the extracted body text; every ``with`` snippet found
is a true positive, every one missing a false negative; every ``without`` snippet found is a
false positive. F1 = 2·TP / (2·TP + FP + FN). An empty result misses all its ``with``s.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from syndicate.sources.html import decode


def corpus_dir() -> Path | None:
    """Where the corpus is: ``$SYNDICATE_SHARED/corpora/realworld`` or ``../shared/…``
    beside the repository; None when neither exists."""
    bases = [os.environ.get("SYNDICATE_SHARED", ""), Path(__file__).resolve().parents[2] / "shared"]
    for base in bases:
        if base and (Path(base) / "corpora" / "realworld" / "evaldata.json").exists():
            return Path(base) / "corpora" / "realworld"
    return None


@dataclass
class Page:
    """One annotated page: its URL, decoded HTML and snippets."""

    url: str
    file: str
    html: str
    with_: list[str]
    without: list[str]


def pages(root: Path, urls: list[str] | None = None) -> Iterator[Page]:
    """The corpus's pages (all, or those of urls, in that order), decoded as a crawler
    would: BOM, then the page's own <meta charset>, then UTF-8."""
    data = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    for url in urls if urls is not None else list(data):
        entry = data[url]
        raw = gzip.decompress((root / "pages" / entry["file"]).read_bytes())
        yield Page(url, entry["file"], decode(raw, None), entry["with"], entry["without"])


# The gate's sample is the first pages of this shuffle: chosen once, never re-drawn.
SEED = 13


def shuffled_urls(root: Path) -> list[str]:
    """Every page's URL, in the fixed order of a seeded shuffle of the sorted list."""
    urls = sorted(json.loads((root / "evaldata.json").read_text(encoding="utf-8")))
    random.Random(SEED).shuffle(urls)
    return urls


def norm(text: str) -> str:
    """The corpus's normalisation of a result: whitespace runs to one space."""
    return re.sub(r"\s+", " ", text or "").strip()


@dataclass
class Score:
    """Summed snippet counts over pages, with the pages that came out empty."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    empty: list[str] = field(default_factory=list)

    def add(self, page: Page, text: str) -> tuple[int, int]:
        """Score one result; returns (with snippets found, without snippets found)."""
        body = norm(text)
        if not body:
            self.empty.append(page.url)
        found = sum(1 for s in page.with_ if norm(s) in body)
        leaked = sum(1 for s in page.without if norm(s) in body)
        self.tp += found
        self.fn += len(page.with_) - found
        self.fp += leaked
        self.tn += len(page.without) - leaked
        return found, leaked

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 0.0
