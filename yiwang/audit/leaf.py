"""What a log entry publishes (its ``leaf_input``), what it keeps restricted (its record) and how the two
are bound together by a salted commitment.

The log is public and is read by people who join it with everything else the platform shows, so the
public leaf carries no personal data and nothing that links two entries to one person::

    {"actor": {"department": "610100-SCJG", "kind": "official", "role": "approver"},
     "commitment": "<64 hex>", "event": "applications:case:approve",
     "object": {"id": "", "type": "applications.case"}, "ts": "2026-11-23T08:00:00.123456Z", "v": 2}

The full record — who acted (user id), the target's id, the details, the request id and the client
address — is canonical JSON too, kept beside the leaf and readable only by auditors and by the person
it belongs to. ``commitment = SHA-256(salt || record)`` with a random 16-byte salt per entry: the leaf
binds the record, yet nobody can test a guess of a record against the public leaf without the salt.
Security events (sign-ins, two-factor changes, throttling) publish only that a restricted entry exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder

LEAF_VERSION = 2
SALT_BYTES = 16

# Events whose subject (the middle part of ``app:subject:verb``) is one of these are security events:
# they are kept in the tree (tamper-evident) but their public leaf says only "restricted".
RESTRICTED_SUBJECTS = frozenset({"session", "login", "signin", "totp", "mfa", "password", "throttle"})
RESTRICTED_EVENT = "restricted"

# Objects that are public in their own right (the catalog, departments, process models): their ids may be
# published. Every other object (a case, a person, an account, an official) is published by type only,
# since its id would link all entries about one person.
PUBLIC_OBJECT_TYPES = frozenset(
    {
        "catalog.serviceitem",
        "catalog.lifeevent",
        "catalog.theme",
        "catalog.synonym",
        "identity.department",
        "identity.region",
        "applications.process",
        "applications.formdefinition",
        # A department's licence signing key, recorded with its thumbprint as id (licences' key
        # events): other deployments check every published key against this log.
        "licences.issuerkey",
        # A 双随机 plan: anyone checks that its commitment entry precedes the tree head its seed
        # comes from (docs/supervision.md).
        "supervision.drawplan",
    }
)

_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def canonical_json(value) -> bytes:
    return _dumps(value).encode("utf-8")


def normalise_data(data) -> object:
    """The JSON value that is stored and committed to: dates, decimals and UUIDs become strings, keys
    strings. Refuses NaN/Infinity and NUL characters (PostgreSQL's jsonb cannot store them)."""
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


def format_ts(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def is_restricted(event: str) -> bool:
    """Whether ``event`` is a security event whose leaf publishes nothing but its existence."""
    parts = event.split(":")
    return len(parts) == 3 and parts[1] in RESTRICTED_SUBJECTS


def public_object_id(target_type: str, target_id: str) -> str:
    return target_id if target_type in PUBLIC_OBJECT_TYPES else ""


_str = json.encoder.encode_basestring  # the escaping json.dumps(ensure_ascii=False) uses


def build_leaf_input(
    *,
    ts: str,
    event: str,
    actor_kind: str,
    actor_department: str,
    actor_role: str,
    target_type: str,
    target_id: str,
    commitment: str,
) -> bytes:
    """The canonical JSON of one public leaf, derived from the entry's columns (security events and
    non-public object ids are blanked here, in one place). Written out by hand (keys already sorted)
    because verify_log rebuilds it for every entry; a test checks it equals ``canonical_json``."""
    if is_restricted(event):
        event, actor_kind, actor_department, actor_role, target_type = RESTRICTED_EVENT, "", "", "", ""
    if target_type:
        obj = f'{{"id":{_str(public_object_id(target_type, target_id))},"type":{_str(target_type)}}}'
    else:
        obj = "null"
    return (
        f'{{"actor":{{"department":{_str(actor_department)},"kind":{_str(actor_kind)},'
        f'"role":{_str(actor_role)}}},"commitment":{_str(commitment)},"event":{_str(event)},'
        f'"object":{obj},"ts":{_str(ts)},"v":{LEAF_VERSION}}}'
    ).encode()


def build_record(
    *,
    event: str,
    actor_type: str,
    actor_id: str,
    actor_label: str,
    target_type: str,
    target_id: str,
    data_json: bytes,
    request_id: str,
    client_ip: str,
    subject_id: str,
) -> bytes:
    """The canonical JSON of the restricted record. ``data_json`` is ``canonical_json(data)``."""
    target = (
        f'{{"id":{_str(target_id)},"type":{_str(target_type)}}}' if (target_type or target_id) else "null"
    )
    return (
        f'{{"actor":{{"id":{_str(actor_id)},"label":{_str(actor_label)},"type":{_str(actor_type)}}},'
        f'"data":{data_json.decode("utf-8")},"event":{_str(event)},"ip":{_str(client_ip)},'
        f'"request_id":{_str(request_id)},"subject":{_str(subject_id)},"target":{target}}}'
    ).encode()


def commitment(salt: bytes, record: bytes) -> str:
    """Lowercase hex SHA-256 of ``salt || record``: what the public leaf publishes of the record."""
    return hashlib.sha256(bytes(salt) + record).hexdigest()


def record_of(entry) -> bytes:
    """The record bytes of a stored entry (an AuditEntry or anything with its columns)."""
    return build_record(
        event=entry.event,
        actor_type=entry.actor_type,
        actor_id=entry.actor_id,
        actor_label=entry.actor_label,
        target_type=entry.target_type,
        target_id=entry.target_id,
        data_json=canonical_json(entry.data),
        request_id=entry.request_id,
        client_ip=entry.client_ip,
        subject_id=entry.subject_id,
    )


def leaf_dict(**fields) -> dict:
    """The same leaf as a dict (for readers and tests)."""
    return json.loads(build_leaf_input(**fields))


def decode_leaf_input(raw: bytes) -> dict:
    return json.loads(bytes(raw).decode("utf-8"))
