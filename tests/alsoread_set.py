"""The labelled ALSO READ set in tests/fixtures/alsoread/ and its score.

labels.json lists, for real pages kept gzipped beside it, the ALSO READ entries a reader sees
inside the story (title, absolute href, order) and links that must not become entries
(related-post grids, "More from" widgets, tag lists, teaser "Read more" links). Each page is
run through extract() as a gather would; an entry found counts when its href and its title
(case and spacing aside) are a labelled one's. Used by tests/test_alsoread_realworld.py and
printed by bench/extract.py.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from syndicate.sources.extract import SiteContext, extract
from syndicate.sources.html import decode, norm
from syndicate.urls import canonical_url, host_of

HERE = Path(__file__).resolve().parent / "fixtures" / "alsoread"


@dataclass
class Result:
    """Counts over the set, with the misses and the wrong entries for a failure message."""

    pages: int = 0
    positives: int = 0
    negatives: int = 0
    tp: int = 0
    fp: int = 0
    out_of_order: int = 0
    missed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    leaked: int = 0  # labelled negatives that came out as entries

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / self.positives if self.positives else 1.0


def _key(title: str) -> str:
    return norm(title).casefold().strip(" .:»>")


def score() -> Result:
    """Run every labelled page through extract() and count what its ALSO READ holds."""
    labels = json.loads((HERE / "labels.json").read_text(encoding="utf-8"))
    result = Result()
    for page in labels["pages"]:
        html = decode(gzip.decompress((HERE / "pages" / page["file"]).read_bytes()), None)
        found = extract(page["url"], html, SiteContext({host_of(page["url"])}, UTC)).story
        entries = found.also_read if found else []
        expected = {(e["href"], _key(e["title"])): e for e in page["also_read"]}
        negatives = {n["href"] for n in page["not_also_read"]}
        result.pages += 1
        result.positives += len(expected)
        result.negatives += len(negatives)
        matched: list[int] = []
        for entry in entries:
            href = canonical_url(entry.href, page["url"]) if entry.href else None
            hit = expected.get((href, _key(entry.label)))
            if hit is not None and hit["position"] not in matched:
                result.tp += 1
                matched.append(hit["position"])
            else:
                result.fp += 1
                result.wrong.append(f"{page['file']}: {entry.label!r} -> {href}")
                result.leaked += href in negatives
        if matched != sorted(matched):
            result.out_of_order += 1
        for e in page["also_read"]:
            if e["position"] not in matched:
                result.missed.append(f"{page['file']}: {e['title']!r} -> {e['href']}")
    return result


if __name__ == "__main__":
    r = score()
    print(
        f"precision {r.precision:.3f} recall {r.recall:.3f}",
        f"({r.tp} of {r.positives}; {r.fp} wrong)",
    )
    print("missed:", *r.missed, sep="\n  ")
    print("wrong:", *r.wrong, sep="\n  ")
