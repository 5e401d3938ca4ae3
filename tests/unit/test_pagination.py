"""List cursors: signed round trips, every kind of tampering refused, and page-size limits."""

import base64
import hashlib
import hmac

import pytest

from shared.errors import BadRequestError
from shared.pagination.cursors import Cursor, CursorError, clamp_limit, decode_cursor, encode_cursor

SECRET = b"test-secret-not-for-production"
CURSOR = Cursor(key="2024-03-05T06:30:15.123456+00:00", id="run_01HQ3Z8K2M")


def raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def to_token(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        CURSOR,
        Cursor(key="", id=""),
        Cursor(key="Zürich ☃", id='quote " and \\ backslash'),
        Cursor(key="x" * 500, id="y"),
    ],
)
def test_cursor_round_trips(cursor: Cursor) -> None:
    token = encode_cursor(cursor, SECRET)
    assert decode_cursor(token, SECRET) == cursor


def test_encode_cursor_is_urlsafe_unpadded_and_stable() -> None:
    token = encode_cursor(CURSOR, SECRET)
    assert token == encode_cursor(CURSOR, SECRET)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    payload = raw(token)[:-16]
    assert payload == b'["2024-03-05T06:30:15.123456+00:00","run_01HQ3Z8K2M"]'


def test_decode_cursor_refuses_a_flipped_byte_anywhere() -> None:
    data = raw(encode_cursor(CURSOR, SECRET))
    for index in range(len(data)):
        for bit in (0x01, 0x80):
            tampered = bytearray(data)
            tampered[index] ^= bit
            with pytest.raises(CursorError, match=r"^invalid cursor: "):
                decode_cursor(to_token(bytes(tampered)), SECRET)


def test_decode_cursor_refuses_a_changed_character_anywhere() -> None:
    token = encode_cursor(CURSOR, SECRET)
    for index, char in enumerate(token):
        changed = token[:index] + ("A" if char != "A" else "B") + token[index + 1 :]
        with pytest.raises(CursorError, match=r"^invalid cursor: "):
            decode_cursor(changed, SECRET)


def test_decode_cursor_refuses_truncation_and_extension() -> None:
    token = encode_cursor(CURSOR, SECRET)
    for end in range(len(token)):
        with pytest.raises(CursorError, match=r"^invalid cursor: "):
            decode_cursor(token[:end], SECRET)
    with pytest.raises(CursorError, match=r"^invalid cursor: "):
        decode_cursor(token + "AAAA", SECRET)


def test_decode_cursor_refuses_another_secret() -> None:
    token = encode_cursor(CURSOR, b"other-secret")
    with pytest.raises(CursorError) as info:
        decode_cursor(token, SECRET)
    assert str(info.value) == "invalid cursor: signature does not match"


def test_decode_cursor_refuses_a_forged_payload_with_the_old_tag() -> None:
    data = raw(encode_cursor(CURSOR, SECRET))
    forged = b'["9999-12-31","run_01HQ3Z8K2M"]' + data[-16:]
    with pytest.raises(CursorError) as info:
        decode_cursor(to_token(forged), SECRET)
    assert str(info.value) == "invalid cursor: signature does not match"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "too short"),
        ("abc", "too short"),
        ("abd", "not urlsafe base64"),
        ("A" * 21, "not urlsafe base64"),
        ("!!!!", "not urlsafe base64"),
        ("a b c d", "not urlsafe base64"),
        ("Zürich", "not urlsafe base64"),
        ("A" * 23, "signature does not match"),
        (to_token(b"short"), "too short"),
        (to_token(b"x" * 40), "signature does not match"),
        ("-_8A" * 10, "signature does not match"),
        ("+/8A" * 10, "not urlsafe base64"),
        (encode_cursor(CURSOR, SECRET) + "==", "not urlsafe base64"),
    ],
)
def test_decode_cursor_refuses_garbage(token: str, reason: str) -> None:
    with pytest.raises(CursorError) as info:
        decode_cursor(token, SECRET)
    assert str(info.value) == f"invalid cursor: {reason}"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "payload is not JSON"),
        (b"\xff\xfe", "payload is not JSON"),
        (b'{"key": "a", "id": "b"}', "payload is not a [key, id] pair of strings"),
        (b'"ab"', "payload is not a [key, id] pair of strings"),
        (b'["a", 1]', "payload is not a [key, id] pair of strings"),
        (b'["a", "b", "c"]', "payload is not a [key, id] pair of strings"),
    ],
)
def test_decode_cursor_refuses_signed_payloads_of_the_wrong_shape(
    payload: bytes, reason: str
) -> None:
    """Even a correctly signed token is refused unless it holds exactly [key, id]."""
    tag = hmac.new(SECRET, payload, hashlib.sha256).digest()[:16]
    with pytest.raises(CursorError) as info:
        decode_cursor(to_token(payload + tag), SECRET)
    assert str(info.value) == f"invalid cursor: {reason}"


def test_cursor_error_is_a_bad_request_and_a_value_error() -> None:
    with pytest.raises(CursorError) as info:
        decode_cursor("nope", SECRET)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, BadRequestError)
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("limit", "kwargs", "expected"),
    [
        (None, {}, 50),
        (None, {"default": 20}, 20),
        (1, {}, 1),
        (37, {}, 37),
        (200, {}, 200),
        (500, {"maximum": 1000}, 500),
    ],
)
def test_clamp_limit_accepts(limit: int | None, kwargs: dict[str, int], expected: int) -> None:
    assert clamp_limit(limit, **kwargs) == expected


@pytest.mark.parametrize(
    ("limit", "maximum", "message"),
    [
        (0, 200, "limit must be between 1 and 200, got 0"),
        (-5, 200, "limit must be between 1 and 200, got -5"),
        (201, 200, "limit must be between 1 and 200, got 201"),
        (11, 10, "limit must be between 1 and 10, got 11"),
    ],
)
def test_clamp_limit_refuses_out_of_range(limit: int, maximum: int, message: str) -> None:
    with pytest.raises(ValueError, match=r"^limit must be between") as info:
        clamp_limit(limit, maximum=maximum)
    assert str(info.value) == message
