"""Extraction quality on the labelled set in tests/sites/extraction: Quarry is at least as
good as trafilatura called directly with its documented defaults."""

from tests.conftest import ROOT
from tools.quality.extraction import bare, load, quarry, score

SITE = ROOT / "tests/sites/extraction"


def test_extraction_quality_not_below_bare_trafilatura() -> None:
    pages = load(SITE)
    assert len(pages) >= 12
    ours, theirs = score(pages, quarry), score(pages, bare)
    assert ours.recall >= theirs.recall, (ours, theirs)
    assert ours.rejection >= theirs.rejection, (ours, theirs)
    assert ours.recall >= 0.9, ours
    assert ours.rejection >= 0.95, ours


def test_extraction_quality_labels_quote_their_pages() -> None:
    """Every labelled sentence is really on its page, so a miss is the extractor's."""
    for page in load(SITE):
        flat = " ".join(page.html.replace("-&gt;", "->").split())
        for sentence in page.key + page.boilerplate:
            assert " ".join(sentence.split()) in flat, (page.file, sentence)
