"""Static assets under content-hashed names: `quarry.css` is served as `quarry.3f2a9c1b.css`.

Hashes are computed once at start-up from the files' bytes, so a changed file gets a new URL
and every URL can be cached forever. nginx serves the same names in the stack by dropping the
hash (emulator/stack/services/nginx_conf.py); this module serves them everywhere else.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).parent / "static"
TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
}
IMMUTABLE = "public, max-age=31536000, immutable"
_HASHED = re.compile(r"^(?P<stem>[A-Za-z0-9_-]+)\.(?P<hash>[0-9a-f]{8})(?P<ext>\.[a-z0-9]+)$")
_PLAIN = re.compile(r"^[A-Za-z0-9_-]+\.[a-z0-9]+$")


@dataclass(frozen=True)
class Asset:
    name: str
    hashed: str
    path: Path
    media_type: str


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


def scan(folder: Path = STATIC) -> dict[str, Asset]:
    """Every servable file in `folder` by its plain name; none where the folder is not deployed
    (the Lambda package leaves it out: a CDN serves the files there)."""
    found: dict[str, Asset] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in TYPES and _PLAIN.match(path.name):
            hashed = f"{path.stem}.{content_hash(path.read_bytes())}{path.suffix}"
            found[path.name] = Asset(path.name, hashed, path, TYPES[path.suffix])
    return found


ASSETS = scan()


def static_url(name: str) -> str:
    """The cache-forever URL of a static file, for templates; the plain name where the files
    are not deployed with the dashboard."""
    asset = ASSETS.get(name)
    return f"/static/{asset.hashed if asset else name}"


def lookup(requested: str) -> tuple[Asset, bool] | None:
    """The asset behind a requested name and whether the name was the current hashed one;
    None for anything else (an old hash, a path, a hidden file)."""
    m = _HASHED.match(requested)
    if m:
        asset = ASSETS.get(m["stem"] + m["ext"])
        return (asset, True) if asset is not None and asset.hashed == requested else None
    asset = ASSETS.get(requested)
    return (asset, False) if asset is not None else None


def build(out: Path, assets: dict[str, Asset] | None = None) -> list[Path]:
    """Copy every asset into `out` under its hashed name (and its plain one), for a CDN or
    bucket that serves files as they are: `python -m dashboard.assets OUT`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for asset in (assets or ASSETS).values():
        for name in (asset.hashed, asset.name):
            shutil.copyfile(asset.path, out / name)
            written.append(out / name)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m dashboard.assets OUT_FOLDER")
    for path in build(Path(sys.argv[1])):
        print(path)
