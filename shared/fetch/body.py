"""Response bodies read under a cap on decompressed bytes, so compression bombs stop early."""

from __future__ import annotations

import zlib

from shared.fetch.errors import FetchError, TooLargeError, UnsupportedTypeError

# brotli and zstandard are not installed, so only these are advertised or decoded; a server
# that sends `br` or `zstd` anyway gets an unsupported_type outcome, never undecoded bytes.
ACCEPT_ENCODING = "gzip, deflate"
_GZIP = ("gzip", "x-gzip")
STEP = 256 * 1024  # most bytes one decompress call may produce, so peaks stay near the cap


class CappedBody:
    """Decodes a body chunk by chunk, never holding more than `cap` decoded bytes: each
    decompress call may produce at most the room left plus one byte (and at most STEP).
    With `truncate`, passing the cap keeps the first `cap` bytes and sets `full` instead."""

    def __init__(self, content_encoding: str, cap: int, url: str, truncate: bool = False) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in (*_GZIP, "deflate")):
            raise UnsupportedTypeError(
                f"{url}: content-encoding {content_encoding!r} is not supported; "
                f"accepted: {ACCEPT_ENCODING}, identity"
            )
        self.coding = codings[0] if codings else None
        self.cap, self.url = cap, url
        self.truncate, self.full = truncate, False
        self.data = bytearray()
        self._fed = 0
        self._z = self._decompressor(raw=False)

    def _decompressor(self, raw: bool) -> zlib._Decompress:
        if self.coding in _GZIP:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)

    def _append(self, out: bytes) -> None:
        if len(self.data) + len(out) > self.cap:
            if self.truncate:
                self.data += out[: self.cap - len(self.data)]
                self.full = True
                return
            how = " once decompressed" if self.coding else ""
            raise TooLargeError(f"{self.url}: body passes {self.cap} bytes{how}; stopped there")
        self.data += out

    def feed(self, chunk: bytes) -> None:
        """Add one raw chunk of the response."""
        if self.full:
            return
        if self.coding is None:
            self._append(chunk)
            return
        first = self._fed == 0
        self._fed += len(chunk)
        try:
            try:
                self._inflate(chunk)
            except zlib.error:
                if not (first and self.coding == "deflate"):
                    raise
                # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate
                self.data.clear()
                self._z = self._decompressor(raw=True)
                self._inflate(chunk)
        except zlib.error as exc:
            raise FetchError(f"{self.url}: body is not valid {self.coding}: {exc}") from exc

    def _inflate(self, data: bytes) -> None:
        while data and not self.full:
            room = self.cap - len(self.data) + 1
            self._append(self._z.decompress(data, min(room, STEP)))
            if not self._z.eof:
                data = self._z.unconsumed_tail
            elif self._z.unused_data and self.coding in _GZIP:  # a further gzip member
                data = self._z.unused_data
                self._z = self._decompressor(raw=False)
            else:
                data = b""

    def finish(self) -> bytes:
        """The whole decoded body."""
        if self.coding is not None and not self.full:
            self._append(self._z.flush())
        return bytes(self.data)
