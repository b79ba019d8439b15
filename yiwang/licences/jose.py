"""The few JOSE pieces licences need, on ``cryptography`` directly: base64url, Ed25519 JWKs and
their RFC 7638 thumbprints, and compact JWS signing and parsing (EdDSA only).

Issuance signs through the sd-jwt library (jwcrypto); verification and status lists use these
functions, which are several times faster than going through jwcrypto's JWK objects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class JoseError(ValueError):
    """Input that is not a well-formed token, key or encoding."""


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    """Strict base64url without padding (RFC 7515 §2)."""
    if not isinstance(text, str) or not B64URL.match(text) or len(text) % 4 == 1:
        raise JoseError("not base64url")
    try:  # binascii directly: base64.urlsafe_b64decode costs twice as much per call
        return binascii.a2b_base64(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JoseError("not base64url") from exc


def json_b64d(text: str) -> dict:
    """A base64url-encoded JSON object."""
    try:
        value = json.loads(b64d(text).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JoseError("not JSON") from exc
    if not isinstance(value, dict):
        raise JoseError("not a JSON object")
    return value


def dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def public_x(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return b64e(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def thumbprint(x: str) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an Ed25519 public key."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return b64e(hashlib.sha256(canonical.encode("ascii")).digest())


def public_jwk(x: str, kid: str | None = None) -> dict:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": x}
    if kid:
        jwk["kid"] = kid
    return jwk


@lru_cache(maxsize=4096)
def _public_key(x: str) -> Ed25519PublicKey:
    raw = b64d(x)
    if len(raw) != 32:
        raise JoseError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_from_jwk(jwk) -> Ed25519PublicKey:
    """The Ed25519 public key of a JWK; JoseError for anything else (other curves, bad sizes)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise JoseError("only Ed25519 (OKP) keys are accepted")
    x = jwk.get("x")
    if not isinstance(x, str):
        raise JoseError("the key has no x")
    return _public_key(x)


def sign_compact(header: dict, payload: dict, key: Ed25519PrivateKey) -> str:
    signing_input = f"{b64e(dumps(header))}.{b64e(dumps(payload))}"
    return f"{signing_input}.{b64e(key.sign(signing_input.encode('ascii')))}"


class Compact:
    """A parsed compact JWS (not yet verified)."""

    __slots__ = ("header", "payload", "signature", "signing_input")

    def __init__(self, token: str):
        parts = token.split(".")
        if len(parts) != 3:
            raise JoseError("a compact JWS has three parts")
        self.header = json_b64d(parts[0])
        self.payload = json_b64d(parts[1])
        self.signature = b64d(parts[2])
        self.signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")

    def verify(self, key: Ed25519PublicKey) -> bool:
        if self.header.get("alg") != "EdDSA" or len(self.signature) != 64:
            return False
        try:
            key.verify(self.signature, self.signing_input)
        except InvalidSignature:
            return False
        return True


def sd_hash(text: str) -> str:
    """base64url(SHA-256(ascii text)): digests of disclosures and of presentations (sd_hash)."""
    return b64e(hashlib.sha256(text.encode("ascii")).digest())
