"""Near-duplicate detection: 64-bit simhash over word 3-shingles, and Hamming distance."""

import hashlib

from shared.pipeline.lexicon import tokenize

BITS = 64
SHINGLE = 3
_MASK = (1 << BITS) - 1


def _shingles(words: list[str]) -> list[str]:
    if len(words) < SHINGLE:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)]


def _hash64(shingle: str) -> int:
    # blake2b, unlike hash(), is the same in every process, so stored values stay comparable.
    digest = hashlib.blake2b(shingle.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def simhash(text: str) -> int:
    """Unsigned 64-bit simhash of `text`; similar texts differ in few bits. Empty text gives 0."""
    hashes = [format(_hash64(shingle), "064b") for shingle in _shingles(tokenize(text))]
    # A bit is set when more shingles have it set than not. Counting the columns of the
    # binary strings runs in C: ~10x faster than shifting each hash 64 times in Python.
    # Column 0 of a "064b" string is bit 63.
    return sum(
        1 << (BITS - 1 - column)
        for column, bits in enumerate(zip(*hashes, strict=True))
        if 2 * bits.count("1") > len(hashes)
    )


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit fingerprints (signed or unsigned form)."""
    return ((a ^ b) & _MASK).bit_count()


def is_near_duplicate(a: int, b: int, threshold: int = 6) -> bool:
    """True when two simhashes are within `threshold` bits, i.e. the texts are near copies."""
    return hamming(a, b) <= threshold


def to_signed64(x: int) -> int:
    """Reinterpret an unsigned 64-bit value as signed, so it fits a BIGINT column."""
    x &= _MASK
    return x - (1 << BITS) if x >= 1 << (BITS - 1) else x


def to_unsigned64(x: int) -> int:
    """Inverse of `to_signed64`: the unsigned 64-bit value back from a BIGINT column."""
    return x & _MASK
