"""The exchange's data at rest: the personal fields of stored resource rows, encrypted with the
platform's field encryption keys (AES-256-GCM, ``yiwang.lib.crypto``) under the exchange's own
purpose, and the blind index by which a row whose key field is personal (an identity number) is
found without storing the number in clear."""

import json

from yiwang.lib import crypto

ROW_PURPOSE = "exchange.row.personal"
KEY_PURPOSE = "exchange.row.key"
ENCRYPTED_FIELDS = (("exchange.ResourceRow", "sealed", ROW_PURPOSE),)


def seal_personal(values: dict) -> bytes:
    return crypto.encrypt(json.dumps(values, ensure_ascii=False, separators=(",", ":")), ROW_PURPOSE)


def seal_personal_many(rows: list[dict]) -> list[bytes]:
    return crypto.encrypt_many(
        (json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in rows), ROW_PURPOSE
    )


def unseal_personal(blob: bytes | memoryview | None) -> dict:
    if not blob:
        return {}
    return json.loads(crypto.decrypt(blob, ROW_PURPOSE))


def key_index(value: str) -> str:
    """The blind index a personal key value (e.g. an identity number) is stored and looked up by."""
    return crypto.blind_index(str(value).strip().upper(), KEY_PURPOSE)


def key_index_many(values) -> list[str]:
    return crypto.blind_index_many((str(v).strip().upper() for v in values), KEY_PURPOSE)
