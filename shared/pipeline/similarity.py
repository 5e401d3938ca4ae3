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


def _digest(shingle: str) -> bytes:
    # blake2b, unlike hash(), is the same in every process, so stored values stay comparable.
    return hashlib.blake2b(shingle.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def simhash(text: str) -> int:
    """Unsigned 64-bit simhash of `text`; similar texts differ in few bits. Empty text gives 0."""
    digests = [_digest(shingle) for shingle in _shingles(tokenize(text))]
    if not digests:
        return 0
    # All hashes side by side as one big integer. `ones` has the lowest bit of every 64-bit
    # slot set, so shifting the stack right by `bit` and masking with it keeps that bit of
    # each hash; counting the ones gives the column total, all in C.
    stacked = int.from_bytes(b"".join(digests), "big")
    ones = ((1 << (BITS * len(digests))) - 1) // _MASK
    fingerprint = 0
    for bit in range(BITS):
        if 2 * ((stacked >> bit) & ones).bit_count() > len(digests):
            fingerprint |= 1 << bit
    return fingerprint


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
