"""Extraction core: Markdown and site name from inline pages, rendered from one extraction."""

from shared.pipeline.extract import extract

PARAGRAPHS = (
    "The county library service will open three new branches next spring, each with a "
    "makerspace, a children's reading room and longer opening hours on weekday evenings.",
    "Librarians say demand for study space has doubled since the university expanded, and "
    "the existing central library often turns students away during the exam season.",
    "The branches will be built next to tram stops so that visitors from the outer villages "
    "can reach them without a car, and each will host a weekly digital skills clinic.",
)
PAGE = f"""<!doctype html><html lang="en"><head><title>Three new library branches</title>
<meta property="og:site_name" content="Shire Gazette"></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Three new library branches</h1>
<p>{PARAGRAPHS[0]}</p><h2>Why now</h2><p>{PARAGRAPHS[1]}</p>
<ul><li>Makerspace with 3D printers</li><li>Evening opening until nine</li></ul>
<p>{PARAGRAPHS[2]} <b>Construction starts in May.</b></p></article>
<footer>Copyright Shire Gazette</footer></body></html>"""


def test_extract_markdown_keeps_structure_of_the_main_text() -> None:
    e = extract(PAGE, "https://gazette.example/libraries")
    assert "## Why now" in e.markdown
    assert "- Makerspace with 3D printers" in e.markdown
    assert "**Construction starts in May.**" in e.markdown
    assert "Copyright" not in e.markdown


def test_extract_text_is_the_markdown_without_formatting() -> None:
    e = extract(PAGE, "https://gazette.example/libraries")
    for paragraph in PARAGRAPHS:
        assert paragraph in e.text
        assert paragraph in e.markdown
    assert "**" not in e.text
    assert "## " not in e.text
    assert "Why now" in e.text


def test_extract_site_name_from_open_graph() -> None:
    assert extract(PAGE, "https://gazette.example/libraries").site_name == "Shire Gazette"


def test_extract_empty_page_has_no_markdown_or_site_name() -> None:
    e = extract("  \n ", "https://x.example/")
    assert (e.text, e.markdown, e.site_name) == ("", "", None)
