"""Encryption of personal identifiers at rest and their searchable blind index.

``encrypt`` uses AES-256-GCM with the current key of ``settings.FIELD_ENCRYPTION_KEYS`` (the first of
its ``(key id, key)`` pairs). The stored value names its key, so keys can be rotated::

    0x01 | length of the key id (1 byte) | key id (ASCII) | 12-byte random nonce | ciphertext and tag

The header and the ``purpose`` label (e.g. "identity.person.id_number") are bound as associated data,
so a value encrypted for one purpose does not decrypt as another and its key id cannot be altered.
``decrypt`` uses the key the value names; values written before key ids (a bare nonce, ciphertext
and tag) are still read, with whichever configured key opens them. ``yiwang rotate-keys``
re-encrypts every stored value under the current key, after which retired keys can be removed.

``blind_index`` is HMAC-SHA256 with ``settings.BLIND_INDEX_KEY`` over the purpose and the value:
equal values give equal indexes, for exact lookup, without revealing the value. That key is apart
from the rotating encryption keys, so rotating them leaves every index as it is.
"""

import hashlib
import hmac
import os
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT_VERSION = 1
MAX_KEY_ID_BYTES = 32


class DecryptionError(Exception):
    """The stored value was altered, or was encrypted with another key or purpose."""


class MissingKeyError(DecryptionError):
    """The stored value names a key id that is not configured (a retired key removed too soon)."""

    def __init__(self, key_id: str):
        super().__init__(f"the value is encrypted under key id {key_id!r}, which is not configured")
        self.key_id = key_id


class Opened(NamedTuple):
    """A decrypted value and the key it was stored under (``legacy``: stored without a key id)."""

    value: str
    key_id: str
    legacy: bool


@lru_cache(maxsize=16)
def _aead(key: bytes) -> AESGCM:
    if len(key) != 32:
        raise ValueError("field encryption keys must be 32 bytes")
    return AESGCM(key)


def key_ring() -> tuple[tuple[str, bytes], ...]:
    """The configured ``(key id, key)`` pairs, the current one first."""
    ring = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if not ring:
        raise ValueError("FIELD_ENCRYPTION_KEYS is empty")
    return ring


def current_key_id() -> str:
    return key_ring()[0][0]


def _header(key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    if not 0 < len(kid) <= MAX_KEY_ID_BYTES:
        raise ValueError("a key id has 1 to 32 ASCII characters")
    return bytes((FORMAT_VERSION, len(kid))) + kid


def encrypt(value: str, purpose: str) -> bytes:
    """Encrypt ``value`` for ``purpose`` under the current key; a fresh random nonce each time."""
    return encrypt_many([value], purpose)[0]


def encrypt_many(values: Iterable[str], purpose: str) -> list[bytes]:
    """``encrypt`` for many values (bulk imports, key rotation): one cipher object, one random read."""
    values = list(values)
    key_id, key = key_ring()[0]
    header = _header(key_id)
    aead, ad = _aead(key), header + purpose.encode()
    randomness = os.urandom(NONCE_BYTES * len(values))
    out = []
    for i, value in enumerate(values):
        nonce = randomness[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
        out.append(header + nonce + aead.encrypt(nonce, value.encode(), ad))
    return out


def _split(data: bytes) -> tuple[str, int] | None:
    """(key id, header length) when ``data`` starts like a value with a key id, else None."""
    if len(data) < 2 or data[0] != FORMAT_VERSION or not 0 < data[1] <= MAX_KEY_ID_BYTES:
        return None
    end = 2 + data[1]
    if len(data) < end + NONCE_BYTES + TAG_BYTES:
        return None
    try:
        return data[2:end].decode("ascii"), end
    except UnicodeDecodeError:
        return None


def open_value(blob: bytes | memoryview, purpose: str) -> Opened:
    """Decrypt a stored value and say which key it was under.

    Raises MissingKeyError when the value names a key id that is not configured, DecryptionError
    when it does not authenticate under any configured key.
    """
    data = bytes(blob)
    ring = key_ring()
    missing = None
    split = _split(data)
    if split is not None:
        key_id, end = split
        key = dict(ring).get(key_id)
        if key is None:
            missing = key_id
        else:
            try:
                clear = _aead(key).decrypt(
                    data[end : end + NONCE_BYTES], data[end + NONCE_BYTES :], data[:end] + purpose.encode()
                )
            except InvalidTag:
                pass
            else:
                return Opened(clear.decode(), key_id, legacy=False)
    # A value from before key ids: its first bytes are the random nonce (which may look like a header).
    if len(data) >= NONCE_BYTES + TAG_BYTES:
        for key_id, key in ring:
            try:
                clear = _aead(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], purpose.encode())
            except InvalidTag:
                continue
            return Opened(clear.decode(), key_id, legacy=True)
    if missing is not None:
        raise MissingKeyError(missing)
    raise DecryptionError(
        "value does not authenticate" if len(data) >= NONCE_BYTES + TAG_BYTES else "value too short"
    )


def decrypt(blob: bytes | memoryview, purpose: str) -> str:
    """Decrypt a value from ``encrypt``; raises DecryptionError if it does not authenticate."""
    return open_value(blob, purpose).value


def blind_index(value: str, purpose: str) -> str:
    """HMAC-SHA256 (hex) of the purpose and the value under the blind-index key."""
    msg = purpose.encode() + b"\x00" + value.encode()
    return hmac.new(settings.BLIND_INDEX_KEY, msg, hashlib.sha256).hexdigest()


def blind_index_many(values: Iterable[str], purpose: str) -> list[str]:
    """``blind_index`` for many values, reusing the keyed HMAC state."""
    base = hmac.new(settings.BLIND_INDEX_KEY, purpose.encode() + b"\x00", hashlib.sha256)
    out = []
    for value in values:
        h = base.copy()
        h.update(value.encode())
        out.append(h.hexdigest())
    return out
