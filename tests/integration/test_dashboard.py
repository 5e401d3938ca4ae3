"""Dashboard pages through the gateway's Lambda-event path: every page, forms with CSRF,
pagination, login, error pages, hostile content and static assets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from dashboard.assets import ASSETS, static_url
from dashboard.passwords import hash_password
from emulator.platform import Embedded, embedded
from shared.config import Settings
from tests.conftest import ROOT
from tests.e2e.htmlcheck import problems
from tests.e2e.seed import Seeded, seed

BASE = "http://127.0.0.1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def web(platform: Embedded) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=platform.gateway)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


@pytest.fixture
async def seeded(platform: Embedded) -> Seeded:
    return await seed(platform.runtime)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def test_dashboard_every_page_renders_valid_html_under_the_csp(
    web: httpx.AsyncClient, seeded: Seeded
) -> None:
    pages = {
        "/": "Overview",
        "/functions": "Functions",
        "/runs": "Runs",
        f"/runs/{seeded.run_id}": "model refused",
        "/documents": "Harbour story 0",
        f"/documents/{seeded.document_id}": "About the <em>harbour</em>",
        f"/documents/{seeded.hostile_id}": "&lt;script&gt;",
        "/sources": "Gazette &lt;b&gt;bold&lt;/b&gt;",
        "/sources/new": "Add a source",
        f"/sources/{seeded.source_id}": "Start a run",
        "/analytics": "Ashford &lt;b&gt;Rovers&lt;/b&gt; (ORG) 2",
        "/dead-letters": "fetch failed",
    }
    for path, expected in pages.items():
        response = await web.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        assert response.headers["content-type"].startswith("text/html")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert expected in response.text, path
        assert problems(response.text) == [], path
        assert "Login is off" in response.text


async def test_dashboard_hostile_content_is_inert(web: httpx.AsyncClient, seeded: Seeded) -> None:
    html = (await web.get(f"/documents/{seeded.hostile_id}")).text
    assert "<title>&lt;script&gt;window.pwned=1;" in html
    assert "<script>window" not in html
    assert not re.search(r"<[^>]+\son\w+=", html)
    assert not re.search(r"<(a|img|iframe)\b[^>]*(href|src)=\"?\s*javascript:", html, re.I)
    assert "<img" not in html
    assert "<iframe" not in html
    assert "<svg onload" not in html
    assert '<a href="https://example.org/ok" rel="noopener nofollow">safe</a>' in html
    assert "<h2>Owned</h2>" in html  # the document's own h1 is demoted below the page's
    assert "&lt;img src=x onerror=window.pwned=18&gt; (ORG)" in html
    assert 'Label: <a class="tag" href="/documents?label=%3Cscript%3E' in html
    listing = (await web.get("/documents")).text
    assert "&lt;script&gt;window.pwned=1" in listing


async def test_dashboard_documents_search_filters_and_pages(
    platform: Embedded, web: httpx.AsyncClient
) -> None:
    await seed(platform.runtime, documents=30)
    first = (await web.get("/documents")).text
    assert first.count('href="/documents/') == 25
    nxt = re.search(r'rel="next" href="([^"]+)"', first)
    assert nxt
    second = (await web.get(nxt.group(1).replace("&amp;", "&"))).text
    assert second.count('href="/documents/') == 6
    assert 'rel="next"' not in second
    assert "First page" in second
    german = (await web.get("/documents", params={"language": "de"})).text
    assert german.count('href="/documents/') == 15
    assert "Harbour story 1" in german
    assert "Harbour story 0<" not in german
    found = (await web.get("/documents", params={"q": "story 7 about"})).text
    assert found.count('href="/documents/') == 1
    negative = (await web.get("/documents", params={"sentiment": "negative"})).text
    assert negative.count('href="/documents/') == 1
    labelled = (await web.get("/documents", params={"label": "HARBOUR"})).text
    assert labelled.count('href="/documents/') == 1
    classified = (
        await web.get("/documents", params={"label": "<script>window.pwned=17</script>economy"})
    ).text
    assert classified.count('href="/documents/') == 1
    empty = (await web.get("/documents", params={"q": "no such words"})).text
    assert "No document matches this search" in empty
    bad = await web.get("/documents", params={"cursor": "forged"})
    assert bad.status_code == 400
    assert "invalid cursor" in bad.text


async def test_dashboard_source_forms_need_csrf_and_say_what_is_wrong(
    web: httpx.AsyncClient,
) -> None:
    token = csrf_of((await web.get("/sources/new")).text)
    forged = await web.post("/sources", data={"name": "x", "kind": "site", "url": "https://a.b/"})
    assert forged.status_code == 403
    assert "reload the page" in forged.text
    wrong = await web.post(
        "/sources", data={"name": "", "kind": "site", "url": "ftp://x", "csrf_token": token}
    )
    assert wrong.status_code == 422
    assert "The source was not saved" in wrong.text
    assert "Name:" in wrong.text
    assert "URL:" in wrong.text
    assert 'value="ftp://x"' in wrong.text
    created = await web.post(
        "/sources",
        data={
            "name": "Docs",
            "kind": "feed",
            "url": "https://docs.example/feed",
            "csrf_token": token,
        },
    )
    assert created.status_code == 303
    page = created.headers["location"]
    assert re.fullmatch(r"/sources/[0-9a-f]{32}\?notice=created", page)
    shown = (await web.get(page)).text
    assert "Source created." in shown
    assert 'value="https://docs.example/feed"' in shown
    source_path = page.split("?")[0]
    saved = await web.post(
        source_path,
        data={
            "name": "Docs v2",
            "kind": "urls",
            "urls": "https://docs.example/1\n\nhttps://docs.example/2",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 303
    edited = (await web.get(source_path)).text
    assert "<h1>Docs v2</h1>" in edited
    assert "https://docs.example/1\nhttps://docs.example/2</textarea>" in edited
    started = await web.post(f"{source_path}/runs", data={"csrf_token": token})
    assert started.status_code == 303
    assert re.fullmatch(r"/runs/[0-9a-f]{32}\?notice=started", started.headers["location"])
    deleted = await web.post(f"{source_path}/delete", data={"csrf_token": token})
    if deleted.status_code == 409:  # the run may still be active; the page says why
        assert "cancel it first" in deleted.text
    else:
        assert deleted.status_code == 303
        assert (await web.get(source_path)).status_code == 404


async def test_dashboard_dead_letters_replay_then_discard(
    web: httpx.AsyncClient, seeded: Seeded
) -> None:
    token = csrf_of((await web.get("/dead-letters")).text)
    replayed = await web.post(
        f"/dead-letters/{seeded.letter_id}/replay", data={"csrf_token": token}
    )
    assert replayed.status_code == 303
    listing = (await web.get(replayed.headers["location"])).text
    assert "Message sent to its stage again." in listing
    assert "replayed " in listing
    again = await web.post(f"/dead-letters/{seeded.letter_id}/replay", data={"csrf_token": token})
    assert again.status_code == 409
    assert "already replayed" in again.text
    discarded = await web.post(
        f"/dead-letters/{seeded.letter_id}/discard", data={"csrf_token": token}
    )
    assert discarded.status_code == 303
    assert "No dead letters: every message was delivered" in (await web.get("/dead-letters")).text


async def test_dashboard_error_pages_are_html_with_a_request_id(
    platform: Embedded, web: httpx.AsyncClient, seeded: Seeded
) -> None:
    missing = await web.get("/no/such/page")
    assert missing.status_code == 404
    assert "<h1>Page not found</h1>" in missing.text
    assert problems(missing.text) == []
    gone = await web.get("/runs/0123456789abcdef")
    assert gone.status_code == 404
    assert "run 0123456789abcdef does not exist" in gone.text
    bad = await web.get("/runs", params={"state": "<bogus>"})
    assert bad.status_code == 400
    assert "the address has a bad value: state:" in bad.text
    async with platform.runtime.db.writer() as session:
        await session.execute(text("DROP TABLE rollups"))
    broken = await web.get("/analytics", headers={"x-request-id": "req-dash-500"})
    assert broken.status_code == 500
    assert "<h1>Something went wrong</h1>" in broken.text
    assert '<code class="rid">req-dash-500</code>' in broken.text
    assert "rollups" not in broken.text  # no internals leak to the page


async def test_dashboard_static_assets_have_hashed_names_cached_forever(
    web: httpx.AsyncClient,
) -> None:
    url = static_url("quarry.css")
    assert re.fullmatch(r"/static/quarry\.[0-9a-f]{8}\.css", url)
    response = await web.get(url)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.content == (ROOT / "dashboard/static/quarry.css").read_bytes()
    assert (await web.get("/static/quarry.00000000.css")).status_code == 404
    assert (await web.get("/static/quarry.css")).headers["cache-control"] == "public, max-age=300"
    assert (await web.get("/static/..%2Fapp.py")).status_code == 404
    assert set(ASSETS) >= {"quarry.css", "refresh.js", "favicon.svg"}
    page = (await web.get("/")).text
    assert f'src="{static_url("refresh.js")}" defer' in page


@pytest.fixture
async def locked(settings: Settings, demo_site: str) -> AsyncIterator[httpx.AsyncClient]:
    cfg = settings.model_copy(
        update={"dashboard_password_hash": SecretStr(hash_password("correct horse"))}
    )
    async with embedded(cfg, ROOT / "serverless.yml", background=False) as p:
        transport = httpx.ASGITransport(app=p.gateway)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            yield c


async def test_dashboard_login_guards_every_page_with_a_signed_cookie(
    locked: httpx.AsyncClient,
) -> None:
    away = await locked.get("/documents?q=x")
    assert away.status_code == 303
    assert away.headers["location"] == "/login?next=%2Fdocuments%3Fq%3Dx"
    form = await locked.get(away.headers["location"])
    assert "Login is off" not in form.text
    assert problems(form.text) == []
    token = csrf_of(form.text)
    wrong = await locked.post(
        "/login", data={"password": "wrong", "next": "/documents?q=x", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "That password is not right" in wrong.text
    assert "quarry_session" not in locked.cookies
    ok = await locked.post(
        "/login", data={"password": "correct horse", "next": "//evil.example", "csrf_token": token}
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert (await locked.get("/sources")).status_code == 200
    locked.cookies.set("quarry_session", locked.cookies["quarry_session"][:-2] + "xx")
    assert (await locked.get("/sources")).status_code == 303


async def test_dashboard_login_locks_an_address_out_after_repeated_failures(
    locked: httpx.AsyncClient,
) -> None:
    token = csrf_of((await locked.get("/login")).text)
    for _ in range(10):
        wrong = await locked.post("/login", data={"password": "guess", "csrf_token": token})
        assert wrong.status_code == 401
    refused = await locked.post("/login", data={"password": "correct horse", "csrf_token": token})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "300"
    assert "too many failed logins from this address" in refused.text
    assert "quarry_session" not in locked.cookies


async def test_dashboard_source_form_sets_crawl_options_and_intelligence(
    web: httpx.AsyncClient,
) -> None:
    token = csrf_of((await web.get("/sources/new")).text)
    fields = {
        "name": "Blog crawl",
        "kind": "crawl",
        "url": "https://blog.example/posts/",
        "max_depth": "3",
        "max_pages": "50",
        "path_prefix": "/posts/",
        "include": "/posts/\\d+\n",
        "exclude": "(",
        "follow_nofollow": "on",
        "labels": "tech: software and gadgets\nsport: games and results",
        "schema": "{not json",
        "csrf_token": token,
    }
    refused = await web.post("/sources", data=fields)
    assert refused.status_code == 422
    assert "JSON Schema: not JSON" in refused.text
    fields["schema"] = '{"type": "object", "properties": {"price": {"type": "number"}}}'
    refused = await web.post("/sources", data=fields)
    assert refused.status_code == 422
    assert "Crawl exclude: pattern &#39;(&#39; is not a valid regular expression" in refused.text
    assert 'value="/posts/"' in refused.text  # what was typed comes back
    fields["exclude"] = "/tag/"
    created = await web.post("/sources", data=fields)
    assert created.status_code == 303, created.text
    source_id = created.headers["location"].split("/")[2].split("?")[0]
    stored = (await web.get(f"/api/v1/sources/{source_id}")).json()
    assert stored["crawl"] == {
        "max_depth": 3,
        "max_pages": 50,
        "include": ["/posts/\\d+"],
        "exclude": ["/tag/"],
        "path_prefix": "/posts/",
        "follow_nofollow": True,
    }
    assert stored["intelligence"]["labels"] == {
        "tech": "software and gadgets",
        "sport": "games and results",
    }
    assert stored["intelligence"]["schema"]["properties"] == {"price": {"type": "number"}}
    page = (await web.get(f"/sources/{source_id}")).text
    assert "sport: games and results</textarea>" in page
    assert 'name="follow_nofollow" type="checkbox" checked' in page
    assert problems(page) == []


async def test_dashboard_pages_are_the_same_through_lambda_events_and_asgi(
    client: httpx.AsyncClient, direct: httpx.AsyncClient, seeded: Seeded
) -> None:
    def comparable(text: str) -> str:  # each answer carries its own CSRF token
        return CSRF.sub('name="csrf_token" value="-"', text)

    for path in ("/", "/documents?language=de", f"/runs/{seeded.run_id}", "/nope"):
        via_event, via_asgi = await client.get(path), await direct.get(path)
        assert via_event.status_code == via_asgi.status_code, path
        assert comparable(via_event.text) == comparable(via_asgi.text), path
        for header in ("content-security-policy", "content-type", "x-frame-options"):
            assert via_event.headers[header] == via_asgi.headers[header], (path, header)
