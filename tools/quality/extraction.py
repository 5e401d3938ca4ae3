"""Extraction quality on a labelled page set: Quarry's extract() against bare trafilatura.

Each page in `labels.json` names key sentences of its main text (they must appear in the
extracted text) and boilerplate sentences (they must not). A page scores its recall of key
sentences and the share of boilerplate left out; a set scores the mean of both.
Run `python -m tools.quality.extraction DIR` to print the figures;
`python -m tools.quality.extraction intelligence [DIR]` prints the offline intelligence figures.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from shared.pipeline.extract import extract

Extractor = Callable[[str, str], str]


@dataclass(frozen=True)
class LabelledPage:
    file: str
    url: str
    html: str
    key: tuple[str, ...]
    boilerplate: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    """Mean key-sentence recall and mean boilerplate rejection over a set (1.0 is perfect)."""

    recall: float
    rejection: float
    pages: int


def load(directory: Path) -> list[LabelledPage]:
    labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
    return [
        LabelledPage(
            file=p["file"],
            url=p["url"],
            html=(directory / p["file"]).read_text(encoding="utf-8"),
            key=tuple(p["key"]),
            boilerplate=tuple(p["boilerplate"]),
        )
        for p in labels["pages"]
    ]


def quarry(html: str, url: str) -> str:
    return extract(html, url).text


def bare(html: str, url: str) -> str:
    """trafilatura's documented default call: `extract()` with its default settings."""
    return trafilatura.extract(html, url=url) or ""


def bare_precision(html: str, url: str) -> str:
    """trafilatura tuned for precision, as its docs suggest when boilerplate matters."""
    return trafilatura.extract(html, url=url, favor_precision=True) or ""


EXTRACTORS: dict[str, Extractor] = {
    "quarry": quarry,
    "trafilatura": bare,
    "trafilatura-precision": bare_precision,
}


def _norm(text: str) -> str:
    return " ".join(text.split())


def page_score(page: LabelledPage, text: str) -> tuple[float, float]:
    """(recall of key sentences, share of boilerplate sentences absent) for one page."""
    found = _norm(text)
    recall = sum(_norm(s) in found for s in page.key) / len(page.key)
    rejection = sum(_norm(s) not in found for s in page.boilerplate) / len(page.boilerplate)
    return recall, rejection


def score(pages: list[LabelledPage], extractor: Extractor) -> Score:
    each = [page_score(p, extractor(p.html, p.url)) for p in pages]
    return Score(
        recall=sum(r for r, _ in each) / len(each),
        rejection=sum(b for _, b in each) / len(each),
        pages=len(each),
    )


def main(argv: list[str]) -> None:
    if argv[:1] == ["intelligence"]:
        from tools.quality import intelligence_report

        intelligence_report.main(argv[1:])
        return
    pages = load(Path(argv[0]) if argv else Path("tests/sites/extraction"))
    print(f"{'extractor':<24}{'pages':>6}{'key recall':>12}{'boilerplate out':>17}")
    for name, extractor in EXTRACTORS.items():
        s = score(pages, extractor)
        print(f"{name:<24}{s.pages:>6}{s.recall:>12.3f}{s.rejection:>17.3f}")
    for p in pages:
        cells = [page_score(p, fn(p.html, p.url)) for fn in EXTRACTORS.values()]
        print(f"  {p.file:<30}" + "".join(f"  {r:.2f}/{b:.2f}" for r, b in cells))


if __name__ == "__main__":
    main(sys.argv[1:])
