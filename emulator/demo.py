"""The bundled demo site, served on loopback, and the demo run `quarry dev` shows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "tests" / "sites" / "demo"
PLACEHOLDER = b"http://demo.quarry.test"
TEXT = (".html", ".xml", ".txt", ".json")


class _Handler(SimpleHTTPRequestHandler):
    base: bytes = PLACEHOLDER

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_dir() and (path / "index.html").is_file():
            path = path / "index.html"
        if path.is_file() and path.suffix in TEXT:
            body = path.read_bytes().replace(PLACEHOLDER, self.base)
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        return super().send_head()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serve_site(root: Path = ROOT, port: int = 0) -> Iterator[str]:
    """Serve a sample site on 127.0.0.1; yields its base URL. Absolute links in the files
    name http://demo.quarry.test and are rewritten to the real address."""
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(_Handler, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    handler = type("SiteHandler", (_Handler,), {"base": base.encode()})
    server.RequestHandlerClass = partial(handler, directory=str(root))
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
