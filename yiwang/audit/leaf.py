"""The exact bytes a log entry commits to (its ``leaf_input``) and how to rebuild them from the columns.

``leaf_input`` is canonical JSON (sorted keys, no spaces, UTF-8, no NaN)::

    {"actor": {"id": "12", "label": "...", "type": "user"}, "data_sha256": "<hex>",
     "event": "identity:user:register", "ip": "203.0.113.5", "request_id": "...",
     "target": {"id": "12", "type": "identity.user"} | null, "ts": "2026-11-23T08:00:00.123456Z", "v": 1}

The leaf commits to a SHA-256 digest of the entry's ``data`` (canonical JSON too), kept beside it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder

LEAF_VERSION = 1

_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def canonical_json(value) -> bytes:
    return _dumps(value).encode("utf-8")


def normalise_data(data) -> object:
    """The JSON value that is stored and hashed: dates, decimals and UUIDs become strings, keys strings.

    Refuses NaN/Infinity and NUL characters (PostgreSQL's jsonb cannot store them)."""
    if data is None:
        return {}
    try:
        text = json.dumps(data, cls=DjangoJSONEncoder, allow_nan=False, ensure_ascii=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit data must be JSON-serialisable: {exc}") from exc
    value = json.loads(text)
    if _has_nul(value):
        raise ValueError("audit data must not contain NUL characters")
    return value


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def data_digest(data) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()


def format_ts(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


_str = json.encoder.encode_basestring  # the escaping json.dumps(ensure_ascii=False) uses


def build_leaf_input(
    *,
    ts: str,
    actor_type: str,
    actor_id: str,
    actor_label: str,
    event: str,
    target_type: str,
    target_id: str,
    data_sha256: str,
    request_id: str,
    client_ip: str,
) -> bytes:
    """The canonical JSON of one leaf. Written out by hand (keys already in sorted order) because
    verify_log rebuilds it for every entry; a test checks it equals ``canonical_json`` of the dict."""
    target = (
        f'{{"id":{_str(target_id)},"type":{_str(target_type)}}}' if (target_type or target_id) else "null"
    )
    return (
        f'{{"actor":{{"id":{_str(actor_id)},"label":{_str(actor_label)},"type":{_str(actor_type)}}},'
        f'"data_sha256":{_str(data_sha256)},"event":{_str(event)},"ip":{_str(client_ip)},'
        f'"request_id":{_str(request_id)},"target":{target},"ts":{_str(ts)},"v":{LEAF_VERSION}}}'
    ).encode()


def leaf_dict(**fields) -> dict:
    """The same leaf as a dict (for readers and tests)."""
    return json.loads(build_leaf_input(**fields))


def decode_leaf_input(raw: bytes) -> dict:
    return json.loads(bytes(raw).decode("utf-8"))
