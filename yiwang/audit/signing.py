"""Ed25519 signatures over tree heads.

Signed bytes (50 bytes, big-endian, the layout of RFC 6962's TreeHeadSignature for a SHA-256 tree)::

    uint8  version         = 0
    uint8  signature_type  = 1   (tree_hash)
    uint64 timestamp           milliseconds since 1970-01-01T00:00:00Z
    uint64 tree_size
    opaque root_hash[32]

key_id = base64(SHA-256(raw 32-byte Ed25519 public key)).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from yiwang.audit.merkle import HASH_SIZE

SIGNED_VERSION = 0
SIGNATURE_TYPE_TREE_HASH = 1


def tree_head_bytes(*, timestamp: int, tree_size: int, root_hash: bytes) -> bytes:
    if len(root_hash) != HASH_SIZE:
        raise ValueError("root hash must be 32 bytes")
    return struct.pack(">BBQQ", SIGNED_VERSION, SIGNATURE_TYPE_TREE_HASH, timestamp, tree_size) + root_hash


def key_id_for(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(hashlib.sha256(raw).digest()).decode()


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    public_key: Ed25519PublicKey
    key_id: str

    @property
    def public_raw(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class KeyExistsError(Exception):
    pass


def write_new_key(path: Path) -> SigningKey:
    """Create a new private key file (0600, parent folders created); never overwrites."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyExistsError(f"{path} already exists; refusing to overwrite it.") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return _wrap(key)


def _wrap(key: Ed25519PrivateKey) -> SigningKey:
    public = key.public_key()
    return SigningKey(private_key=key, public_key=public, key_id=key_id_for(public))


_lock = threading.Lock()
_cache: dict[Path, tuple[float, SigningKey]] = {}


def load_key() -> SigningKey:
    """The log's signing key, loaded once per process (reloaded if the file changes).

    In development a missing key is created; in production a missing key is a configuration error.
    """
    path = Path(settings.AUDIT_SIGNING_KEY_FILE)
    with _lock:
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            if not settings.DEV:
                raise ImproperlyConfigured(
                    f"The audit signing key {path} does not exist. Run `yiwang audit-keygen` once "
                    "and set AUDIT_SIGNING_KEY_FILE (see docs/audit.md)."
                ) from None
            with contextlib.suppress(KeyExistsError):  # another process may create it meanwhile
                write_new_key(path)
            mtime = path.stat().st_mtime
        cached = _cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured(f"{path} is not an Ed25519 private key.")
        signing_key = _wrap(key)
        _cache[path] = (mtime, signing_key)
        return signing_key
