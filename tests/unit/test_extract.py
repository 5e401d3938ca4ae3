"""Extraction core: main text, metadata and fingerprints from inline HTML pages."""

import hashlib

import pytest

from shared.pipeline.extract import Extracted, extract, has_main_text
from shared.pipeline.lexicon import tokenize
from shared.pipeline.similarity import (
    hamming,
    is_near_duplicate,
    simhash,
    to_signed64,
    to_unsigned64,
)

NAV = """
<nav class="site-nav"><ul>
  <li><a href="/">Home</a></li><li><a href="/world">World news</a></li>
  <li><a href="/sport">Sport results</a></li><li><a href="/subscribe">Subscribe today</a></li>
</ul></nav>"""
FOOTER = """<footer><p>Copyright 2024 Daily Ledger. All rights reserved.
<a href="/privacy">Privacy policy</a> <a href="/terms">Terms of service</a></p></footer>"""

SOLAR_PARAGRAPHS = (
    "Solar farms are expanding rapidly across the region as energy companies invest "
    "billions in new capacity. Local councils have approved more than forty projects "
    "this year alone.",
    "Engineers say the new panels are more efficient than ever, converting a larger share "
    "of sunlight into electricity while costing less to install and to maintain.",
    "Critics worry about the loss of farmland, but supporters argue that sheep can graze "
    "beneath the panels and that biodiversity often improves around the sites.",
    "The regional grid operator has warned that transmission lines will need upgrading "
    "before many of the farms can connect, and it has published a ten year plan that "
    "sets out where new substations and cables will be built first.",
    "Several farming families told reporters that leasing fields to developers now pays "
    "more than growing wheat, which has helped them keep land that had been in their "
    "families for generations through a run of poor harvests.",
    "Battery storage is being installed alongside many of the larger sites so that power "
    "generated at midday can be released in the evening, when demand in nearby towns "
    "reaches its peak and prices on the wholesale market are highest.",
    "Planning officers say the number of applications has tripled since the spring, and "
    "the council has hired additional staff to assess the effects on landscape, drainage, "
    "wildlife corridors and the roads used by construction traffic.",
    "Residents of the villages closest to the proposed sites remain divided: some welcome "
    "the community funds that developers have promised, while others fear that the views "
    "across the valley will be changed for decades to come.",
)

HARBOUR_PARAGRAPHS = (
    "The old harbour reopened on Saturday after a two year restoration that rebuilt the "
    "stone quay, the lighthouse and the fish market hall.",
    "Fishermen who moved their boats to a neighbouring town during the works said they "
    "were glad to be back, although mooring fees have risen sharply.",
    "The council expects tourists to return in large numbers this summer and has "
    "scheduled a festival with music, boat races and a seafood market.",
)


def article_page(
    paragraphs: tuple[str, ...], *, title: str = "Solar Farms Expand Across the Region"
) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head>
<title>{title} | Daily Ledger</title>
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
<link rel="canonical" href="/news/solar-farms">
</head><body>{NAV}
<main><article><h1>{title}</h1>{body}</article></main>
{FOOTER}</body></html>"""


@pytest.fixture(scope="module")
def solar() -> Extracted:
    return extract(article_page(SOLAR_PARAGRAPHS), "https://ledger.example/news/solar?utm=x")


def test_extract_article_keeps_body_and_drops_boilerplate(solar: Extracted) -> None:
    for paragraph in SOLAR_PARAGRAPHS:
        assert paragraph in solar.text
    for boilerplate in ("World news", "Subscribe today", "Privacy policy", "Copyright 2024"):
        assert boilerplate not in solar.text
    assert has_main_text(solar)


def test_extract_article_reads_metadata(solar: Extracted) -> None:
    assert solar.title == "Solar Farms Expand Across the Region"
    assert solar.author == "Jane Doe"
    assert solar.published == "2024-03-05"
    assert solar.language == "en"
    assert solar.canonical_url == "https://ledger.example/news/solar-farms"


def test_extract_fingerprints_are_of_normalised_text(solar: Extracted) -> None:
    normalised = " ".join(solar.text.split())
    assert solar.content_hash == hashlib.sha256(normalised.encode()).hexdigest()
    assert 0 < solar.simhash < 2**64


def test_extract_undeclared_language_is_detected_from_text() -> None:
    paragraphs = (
        "Die Stadt hat am Montag beschlossen, dass der neue Park im Norden gebaut wird, "
        "und die Bürger sind mit dem Plan sehr zufrieden.",
        "Nach Angaben der Verwaltung soll der Bau im Frühjahr beginnen und wird etwa zwei "
        "Jahre dauern, weil auch ein See angelegt werden muss.",
        "Die Kosten liegen bei rund zehn Millionen Euro, die zum größten Teil vom Land "
        "getragen werden, wie der Bürgermeister sagte.",
    )
    page = article_page(paragraphs, title="Neuer Park").replace(' lang="en-GB"', "")
    result = extract(page, "https://stadt.example/park")
    assert result.language == "de"
    assert has_main_text(result)


def test_extract_navigation_only_page_has_no_main_text() -> None:
    page = f"""<html><head><title>Gallery</title></head><body>{NAV}
    <div class="gallery"><img src="a.jpg" alt="Harbour"><img src="b.jpg" alt="Lighthouse">
    </div>{FOOTER}</body></html>"""
    result = extract(page, "https://ledger.example/gallery")
    assert not has_main_text(result)
    assert "Privacy policy" not in result.text


@pytest.mark.parametrize(
    "junk",
    ["", "   \n", "\x00\x01\x02\xff\xfe", "<<<>>>&&&;", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"],
)
def test_extract_junk_input_gives_empty_text(junk: str) -> None:
    result = extract(junk, "https://ledger.example/junk")
    assert result.text == ""
    assert result.content_hash == hashlib.sha256(b"").hexdigest()
    assert result.simhash == 0
    assert not has_main_text(result)


def test_extract_near_identical_articles_are_near_duplicates(solar: Extracted) -> None:
    # A syndicated copy: another site's wrapper, one word edited by the copy desk.
    edited = tuple(p.replace("often improves", "usually improves") for p in SOLAR_PARAGRAPHS)
    page = article_page(edited).replace(NAV, "<nav><a href='/'>Mirror front page</a></nav>")
    copy = extract(page, "https://mirror.example/solar")
    assert copy.content_hash != solar.content_hash
    assert is_near_duplicate(solar.simhash, copy.simhash)


def test_extract_different_articles_are_not_near_duplicates(solar: Extracted) -> None:
    other = extract(
        article_page(HARBOUR_PARAGRAPHS, title="Old Harbour Reopens"),
        "https://ledger.example/news/harbour",
    )
    assert not is_near_duplicate(solar.simhash, other.simhash)
    assert hamming(solar.simhash, other.simhash) > 12


def test_simhash_is_stable_and_sixty_four_bit() -> None:
    text = "the quick brown fox jumps over the lazy dog"
    assert simhash(text) == simhash(text.upper())
    assert simhash(text) == 0x77B12FE87CF06675
    assert simhash("") == 0


def test_simhash_signed_round_trip_fits_bigint() -> None:
    for value in (0, 1, 2**63 - 1, 2**63, 2**64 - 1):
        signed = to_signed64(value)
        assert -(2**63) <= signed < 2**63
        assert to_unsigned64(signed) == value
    assert to_signed64(2**64 - 1) == -1
    assert hamming(to_signed64(2**64 - 1), 0) == 64


def _simhash_by_definition(text: str) -> int:
    """Simhash as defined: per bit, set when most shingle hashes have it set."""
    words = tokenize(text)
    shingles = (
        [" ".join(words[i : i + 3]) for i in range(len(words) - 2)] if len(words) >= 3 else []
    ) or ([" ".join(words)] if words else [])
    hashes = [
        int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") for s in shingles
    ]
    return sum(
        1 << bit for bit in range(64) if 2 * sum((h >> bit) & 1 for h in hashes) > len(hashes)
    )


def test_simhash_matches_the_per_bit_definition() -> None:
    texts = [
        "one",
        "two words",
        "exactly three words",
        "The quick brown fox jumps over the lazy dog, again and again, near the river bank.",
        " ".join(f"word{i % 37} filler{i % 11}" for i in range(400)),
        "Größere Städte und Flüsse: Köln, München, Zürich. Ça va? ¿Qué tal? 東京 大阪",
    ]
    for text in texts:
        assert simhash(text) == _simhash_by_definition(text), text
