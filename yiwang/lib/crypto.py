"""Encryption of personal identifiers at rest and their searchable blind index.

``encrypt`` uses AES-256-GCM with ``settings.FIELD_ENCRYPTION_KEY``; the stored value is a
random 12-byte nonce followed by the ciphertext and tag. The ``purpose`` label (e.g.
"person.id_number") is bound as associated data, so a value encrypted for one purpose does
not decrypt as another. ``blind_index`` is HMAC-SHA256 with ``settings.BLIND_INDEX_KEY``
over the purpose and the value: equal values give equal indexes, for exact lookup, without
revealing the value.
"""

import hashlib
import hmac
import os
from collections.abc import Iterable
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

NONCE_BYTES = 12


class DecryptionError(Exception):
    """The stored value was altered, or was encrypted with another key or purpose."""


@lru_cache(maxsize=4)
def _aead(key: bytes) -> AESGCM:
    if len(key) != 32:
        raise ValueError("FIELD_ENCRYPTION_KEY must be 32 bytes")
    return AESGCM(key)


def encrypt(value: str, purpose: str) -> bytes:
    """Encrypt ``value`` for ``purpose``; a fresh random nonce each time."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aead(settings.FIELD_ENCRYPTION_KEY).encrypt(nonce, value.encode(), purpose.encode())


def encrypt_many(values: Iterable[str], purpose: str) -> list[bytes]:
    """``encrypt`` for many values (bulk imports): one cipher object, one random read."""
    values = list(values)
    aead, ad = _aead(settings.FIELD_ENCRYPTION_KEY), purpose.encode()
    randomness = os.urandom(NONCE_BYTES * len(values))
    out = []
    for i, value in enumerate(values):
        nonce = randomness[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
        out.append(nonce + aead.encrypt(nonce, value.encode(), ad))
    return out


def decrypt(blob: bytes | memoryview, purpose: str) -> str:
    """Decrypt a value from ``encrypt``; raises DecryptionError if it does not authenticate."""
    data = bytes(blob)
    if len(data) < NONCE_BYTES + 16:
        raise DecryptionError("value too short")
    try:
        clear = _aead(settings.FIELD_ENCRYPTION_KEY).decrypt(
            data[:NONCE_BYTES], data[NONCE_BYTES:], purpose.encode()
        )
    except InvalidTag as exc:
        raise DecryptionError("value does not authenticate") from exc
    return clear.decode()


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
