"""The dashboard's pure parts: passwords, signed cookies, the Markdown sanitiser, SVG charts,
histogram percentiles, safe redirects, and the hash-password command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Gauge
from typer.testing import CliRunner

from cli.main import app
from dashboard import sessions
from dashboard.assets import ASSETS, build, scan, static_url
from dashboard.charts import bar_chart, line_chart
from dashboard.figures import quantile, queue_depths
from dashboard.markdown import render_markdown
from dashboard.pages.auth import safe_next
from dashboard.passwords import hash_password, verify_password
from shared.config_load import load_settings
from shared.errors import ConfigError

SECRET = b"s" * 32


def test_dashboard_password_hash_verifies_only_the_password() -> None:
    stored = hash_password("correct horse", salt=b"0123456789abcdef")
    assert stored.startswith("scrypt$16384$8$1$MDEyMzQ1Njc4OWFiY2RlZg$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("correct horse", stored.replace("scrypt", "bcrypt"))
    assert not verify_password("correct horse", "scrypt$99999999$8$1$x$y")
    assert hash_password("correct horse") != hash_password("correct horse")  # salted
    with pytest.raises(ConfigError, match="at least 8 characters"):
        hash_password("short")


def test_dashboard_csrf_token_belongs_to_its_cookie() -> None:
    token = sessions.csrf_token(SECRET, "cookie-value")
    assert sessions.is_valid_csrf(SECRET, "cookie-value", token)
    assert not sessions.is_valid_csrf(SECRET, "other-cookie", token)
    assert not sessions.is_valid_csrf(SECRET, None, token)
    assert not sessions.is_valid_csrf(SECRET, "cookie-value", None)


def test_dashboard_markdown_keeps_formatting_and_drops_script() -> None:
    html = render_markdown(
        "# Title\n\n**bold** [ok](https://a.example/x) [js](javascript:alert(1)) "
        "[rel](/local) <b onclick=x>raw</b>\n\n![i](https://a.example/i.png)\n\n"
        "| a | b |\n| - | - |\n| 1 | 2 |\n"
    )
    assert html.startswith("<h2>Title</h2>")
    assert "<strong>bold</strong>" in html
    assert '<a href="https://a.example/x" rel="noopener nofollow">ok</a>' in html
    assert 'href="javascript' not in html
    assert "<img" not in html
    assert "onclick" not in html.replace("&lt;b onclick=x&gt;", "")
    assert "&lt;b onclick=x&gt;raw&lt;/b&gt;" in html
    assert "<table>" in html
    assert render_markdown(None) == ""


def test_dashboard_charts_escape_labels_and_scale_values() -> None:
    svg = bar_chart("Docs <b>", ["<script>", "b"], [2, 4])
    assert svg.startswith('<svg class="chart" viewBox="0 0 600 180" role="img"')
    assert "<title>Docs &lt;b&gt;</title>" in svg
    assert "&lt;script&gt;: 2" in svg
    assert "<script>" not in svg
    heights = [float(h) for h in re.findall(r'<rect class="bar" [^>]*height="([0-9.]+)"', svg)]
    assert heights == [73.0, 146.0]
    line = line_chart("Mood", ["a", "b", "c", "d"], [0.5, None, -0.5, 1.0], -1.0, 1.0)
    assert line.count("<polyline") == 2  # a gap where the value is missing
    assert line.count("<circle") == 3
    assert 'class="zero"' in line


def test_dashboard_percentiles_come_from_histogram_buckets() -> None:
    assert quantile(0.5, {}) is None
    assert quantile(0.5, {0.1: 0.0, float("inf"): 0.0}) is None
    assert quantile(0.5, {0.1: 50.0, 0.2: 100.0, float("inf"): 100.0}) == pytest.approx(0.1)
    assert quantile(0.95, {0.1: 50.0, 0.2: 100.0, float("inf"): 100.0}) == pytest.approx(0.19)
    registry = CollectorRegistry()
    depth = Gauge("quarry_queue_depth_messages", "x", ["stage"], registry=registry)
    depth.labels("extraction").set(7)
    assert queue_depths(registry.collect()) == {"extraction": 7}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/documents?q=x", "/documents?q=x"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
        (None, "/"),
    ],
)
def test_dashboard_login_redirects_only_to_this_site(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected


def test_dashboard_hash_password_command_prints_a_hash_settings_accept() -> None:
    result = CliRunner().invoke(app, ["hash-password", "--stdin"], input="correct horse\n")
    assert result.exit_code == 0, result.output
    stored = result.stdout.splitlines()[0]
    assert verify_password("correct horse", stored)
    cfg = load_settings({"QUARRY_DASHBOARD_PASSWORD_HASH": stored})
    assert cfg.dashboard_password_hash is not None
    assert cfg.dashboard_password_hash.get_secret_value() == stored
    with pytest.raises(ConfigError, match=r"QUARRY_DASHBOARD_PASSWORD_HASH=\*\*\*: ") as info:
        load_settings({"QUARRY_DASHBOARD_PASSWORD_HASH": "hunter2"})
    assert "hunter2" not in str(info.value)
    short = CliRunner().invoke(app, ["hash-password", "--stdin"], input="short\n")
    assert short.exit_code == 2
    assert "at least 8 characters" in short.output


def test_dashboard_assets_build_writes_hashed_and_plain_copies(tmp_path: Path) -> None:
    written = build(tmp_path / "out")
    names = sorted(p.name for p in written)
    css = ASSETS["quarry.css"]
    assert css.hashed in names
    assert "quarry.css" in names
    assert (tmp_path / "out" / css.hashed).read_bytes() == css.path.read_bytes()
    assert static_url("quarry.css") == f"/static/{css.hashed}"
    assert len(names) == 2 * len(ASSETS)


def test_dashboard_assets_without_the_folder_link_plain_names(tmp_path: Path) -> None:
    assert scan(tmp_path / "not-deployed") == {}  # the Lambda package leaves static/ out
    assert static_url("not-there.css") == "/static/not-there.css"
