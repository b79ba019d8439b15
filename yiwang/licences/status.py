"""Token Status List (IETF draft-ietf-oauth-status-list-12): the encoding and the signed token.

Two bits per licence; the status of index ``i`` sits in byte ``i // 4`` at bit offset
``2 * (i % 4)`` counting from the least significant bit. 0 valid, 1 invalid (revoked),
2 suspended. The published ``lst`` is the bit array compressed with DEFLATE in the ZLIB format
and base64url-encoded; the token is a JWT of ``typ`` ``statuslist+jwt`` whose ``sub`` is the
list's URL, signed by the department's current issuer key.
"""

from __future__ import annotations

import zlib

from yiwang.licences import jose

BITS = 2
VALID, INVALID, SUSPENDED = 0, 1, 2
TYP = "statuslist+jwt"
MAX_TTL = 24 * 3600  # a ttl longer than a day is read as a day
MAX_DECOMPRESSED = 1 << 24  # 16 MiB: far more than any list; guards against zlib bombs


def empty(size: int) -> bytes:
    return bytes((size * BITS + 7) // 8)


def get(bits: bytes, index: int) -> int:
    byte = index * BITS // 8
    if index < 0 or byte >= len(bits):
        raise IndexError(index)
    return (bits[byte] >> ((index * BITS) % 8)) & ((1 << BITS) - 1)


def put(bits: bytes, index: int, value: int) -> bytes:
    if not 0 <= value < (1 << BITS):
        raise ValueError(value)
    data = bytearray(bits)
    byte, shift = index * BITS // 8, (index * BITS) % 8
    data[byte] = (data[byte] & ~(((1 << BITS) - 1) << shift) & 0xFF) | (value << shift)
    return bytes(data)


def encode(bits: bytes) -> str:
    return jose.b64e(zlib.compress(bits, 9))


def decode(lst: str) -> bytes:
    """The bit array of a published ``lst``; JoseError for anything not base64url ZLIB data."""
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(jose.b64d(lst), MAX_DECOMPRESSED)
    except zlib.error as exc:
        raise jose.JoseError("not ZLIB data") from exc
    if inflater.unconsumed_tail:
        raise jose.JoseError("status list too large")
    return data


def token(*, uri: str, bits: bytes, kid: str, key, iat: int, exp: int, ttl: int) -> str:
    header = {"alg": "EdDSA", "typ": TYP, "kid": kid}
    payload = {
        "sub": uri,
        "iat": iat,
        "exp": exp,
        "ttl": ttl,
        "status_list": {"bits": BITS, "lst": encode(bits)},
    }
    return jose.sign_compact(header, payload, key)


def read_token(text: str, *, uri: str, key_for, now: int) -> bytes:
    """Check a status list token (signature by ``key_for(kid)``, ``typ``, ``sub`` == ``uri``,
    not expired) and return its bit array; JoseError saying what is wrong otherwise."""
    parsed = jose.Compact(text)
    if parsed.header.get("typ") != TYP:
        raise jose.JoseError("not a statuslist+jwt")
    key = key_for(parsed.header.get("kid"))
    if key is None or not parsed.verify(key):
        raise jose.JoseError("the status list's signature does not verify")
    if parsed.payload.get("sub") != uri:
        raise jose.JoseError("the status list is for another URL")
    exp = parsed.payload.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise jose.JoseError("the status list has no expiry (exp)")  # it would be trusted forever
    if exp < now:
        raise jose.JoseError("the status list has expired")
    body = parsed.payload.get("status_list")
    if not isinstance(body, dict) or body.get("bits") != BITS or not isinstance(body.get("lst"), str):
        raise jose.JoseError("unsupported status list")
    return decode(body["lst"])


def token_ttl(text: str) -> int:
    """The ``ttl`` (seconds) of a status list token, unverified (the token is checked when used);
    0 when it has none or it is not a number: such a copy is fetched again every time."""
    try:
        payload = jose.Compact(text).payload
    except jose.JoseError:
        return 0
    ttl = payload.get("ttl") if isinstance(payload, dict) else None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
        return 0
    return int(min(ttl, MAX_TTL))
